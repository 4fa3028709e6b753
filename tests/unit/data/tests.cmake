# Unit tests of the data layer (added to cltci_tests).
include(${CMAKE_CURRENT_LIST_DIR}/tests_io.cmake)
