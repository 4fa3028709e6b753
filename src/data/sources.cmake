# Sources of the data layer (explicit list).
