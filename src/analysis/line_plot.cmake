target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/line_plot.cpp)
