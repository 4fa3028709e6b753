target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/pretrain.cpp ${CMAKE_CURRENT_LIST_DIR}/pretrain_probe.cpp ${CMAKE_CURRENT_LIST_DIR}/embedding.cpp)
