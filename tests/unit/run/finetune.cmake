# Tests that write or read PNG files through OpenCV directly need the image codecs (the GPU-only
# variant, CLTCI_IMAGE_CODECS=OFF, builds without them).
if(CLTCI_IMAGE_CODECS)
  target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/finetune_test.cpp)
endif()
target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/finetune_validation_test.cpp)
if(CLTCI_WITH_CUDA)  # torch's sync debug switch lives in libc10_cuda
  target_sources(cltci_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/finetune_host_sync_test.cpp)
endif()
