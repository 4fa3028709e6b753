target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/evaluate.cpp ${CMAKE_CURRENT_LIST_DIR}/embed.cpp)
