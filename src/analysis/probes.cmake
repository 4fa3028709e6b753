target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/probes.cpp)
