# Unit tests of `prepare` (run layer).
target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/prepare_test.cpp)
