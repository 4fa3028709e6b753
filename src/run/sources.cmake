target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/evaluate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/finetune.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretrain.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_context.cpp)
