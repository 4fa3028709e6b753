# `report`: the text table and paired tests, the table files and the plots.
target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/report.cpp
                             ${CMAKE_CURRENT_LIST_DIR}/report_tables.cpp
                             ${CMAKE_CURRENT_LIST_DIR}/report_curves.cpp)
