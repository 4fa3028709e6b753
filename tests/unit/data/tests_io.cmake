# Unit tests of data I/O: manifest, decoding, writers, importers.
target_sources(cltci_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/csv_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/manifest_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers_masks_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers_dicom_test.cpp)
if(CLTCI_IMAGE_CODECS)  # PNG and JPEG files written and decoded through OpenCV
  target_sources(cltci_tests PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/image_io_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/importers_tabular_test.cpp)
endif()
