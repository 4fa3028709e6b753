# Unit tests of the models layer (added to cltci_tests).
target_sources(cltci_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/deeplabv3plus_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/heads_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_format_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_factory_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/resnet_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/state_dict_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unet_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/weights_io_test.cpp)
