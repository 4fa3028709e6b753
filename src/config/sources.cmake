target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/config_loader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/evaluate_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/finetune_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/overrides.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretrain_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/schema.cpp
  ${CMAKE_CURRENT_LIST_DIR}/schema_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sections.cpp
  ${CMAKE_CURRENT_LIST_DIR}/suggestions.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sweep_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/yaml_reader.cpp)
