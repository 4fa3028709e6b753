# Sources of the data layer (explicit list).
include(${CMAKE_CURRENT_LIST_DIR}/sources_io.cmake)
