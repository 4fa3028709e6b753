# Unit tests of the run layer (added to cltci_tests), one list per executable's pipeline.
foreach(part pretrain prepare finetune report evaluate sweep)
  include(${CMAKE_CURRENT_LIST_DIR}/${part}.cmake)
endforeach()
# Config sections into the library's options, choices into its enums.
target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/bridges_test.cpp)
