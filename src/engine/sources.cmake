# Sources of the engine layer (explicit list).
