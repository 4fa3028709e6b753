target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/plot_style_test.cpp)
