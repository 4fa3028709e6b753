target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/plot_style.cpp)
