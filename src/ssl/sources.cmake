# Sources of the ssl layer (explicit list).
