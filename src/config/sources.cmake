# Sources of the config layer (explicit list).
