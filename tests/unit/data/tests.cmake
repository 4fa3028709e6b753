# Unit tests of the data layer (added to cltci_tests).
include(${CMAKE_CURRENT_LIST_DIR}/tests_io.cmake)
target_sources(cltci_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/acquisition_time_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/augment_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/batch_augment_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/folds_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_codecs_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loader_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/phantom_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/samplers_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/square_geometry_test.cpp)
# These write or read PNG files through OpenCV directly: not in the variant without image codecs.
if(CLTCI_IMAGE_CODECS)
  target_sources(cltci_tests PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/cache_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/phantom_export_test.cpp)
endif()
