target_sources(cltci_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/moco_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/positives_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretext_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/supcon_test.cpp)
target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/method_test.cpp)
