target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/report_test.cpp
                                   ${CMAKE_CURRENT_LIST_DIR}/report_curves_test.cpp)
if(CLTCI_IMAGE_CODECS)  # reads the PNGs it writes through OpenCV
  target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/report_tables_test.cpp)
endif()
