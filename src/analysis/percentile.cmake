target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/percentile.cpp)
