target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/paired_test_test.cpp)
