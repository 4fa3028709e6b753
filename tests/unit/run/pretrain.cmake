# The pretrain pipeline: phantom runs, batch composition, resume equality, bad values.
target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/pretrain_test.cpp
                                   ${CMAKE_CURRENT_LIST_DIR}/pretrain_positives_test.cpp)
if(CLTCI_WITH_CUDA)  # torch's sync debug switch lives in libc10_cuda
  target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/pretrain_host_sync_test.cpp)
endif()
