# Sources of the models layer (explicit list).
