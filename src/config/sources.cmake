target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/config_loader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/evaluate_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/finetune_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretrain_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sections.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sweep_config.cpp)
