target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/scatter_plot_test.cpp)
