target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/percentile_test.cpp)
