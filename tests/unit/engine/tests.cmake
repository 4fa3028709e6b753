target_sources(cltci_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/dice_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fold_summary_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grad_clip_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grad_scaler_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/precision_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/segmentation_loss_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/surface_distance_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/trainer_test.cpp)
