# The evaluate pipeline: surface metrics and Dice distributions of a fine-tuning run.
target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/evaluate_test.cpp)
