target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/dice.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fold_summary.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grad_clip.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grad_scaler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lr_schedule.cpp
  ${CMAKE_CURRENT_LIST_DIR}/optimizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/overlay.cpp
  ${CMAKE_CURRENT_LIST_DIR}/precision.cpp
  ${CMAKE_CURRENT_LIST_DIR}/segmentation_loss.cpp
  ${CMAKE_CURRENT_LIST_DIR}/surface_distance.cpp
  ${CMAKE_CURRENT_LIST_DIR}/trainer.cpp)
