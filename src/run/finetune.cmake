target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/finetune.cpp)
target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/segmentation_model.cpp)
target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/finetune_cells.cpp)
target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/finetune_validation.cpp)
