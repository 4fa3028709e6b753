# Sources of the models layer (explicit list).
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/deeplabv3plus.cpp
  ${CMAKE_CURRENT_LIST_DIR}/encoder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/heads.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_format.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_factory.cpp
  ${CMAKE_CURRENT_LIST_DIR}/norm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/resnet.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/state_dict.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unet.cpp
  ${CMAKE_CURRENT_LIST_DIR}/weights_io.cpp)
