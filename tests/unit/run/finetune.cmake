target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/finetune_test.cpp)
target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/finetune_validation_test.cpp)
