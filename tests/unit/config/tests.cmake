target_sources(cltci_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/config_loader_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sections_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/yaml_reader_test.cpp)
