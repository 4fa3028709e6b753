# Sources of the run layer (explicit list).
