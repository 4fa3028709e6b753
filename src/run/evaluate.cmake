target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/evaluate.cpp ${CMAKE_CURRENT_LIST_DIR}/embed.cpp)
# evaluate's scoring of a fine-tuning run and the files it writes from the scores.
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/evaluate_scoring.cpp
  ${CMAKE_CURRENT_LIST_DIR}/evaluate_writers.cpp)
