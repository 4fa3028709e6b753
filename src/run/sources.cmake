target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/bridges.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_context.cpp)
# One list per executable's pipeline, so each can change on its own.
foreach(part pretrain prepare finetune evaluate report sweep)
  include(${CMAKE_CURRENT_LIST_DIR}/${part}.cmake)
endforeach()
