# Sources of the ssl layer (explicit list).
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/moco.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pirl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/positives.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rotation.cpp
  ${CMAKE_CURRENT_LIST_DIR}/supcon.cpp
  ${CMAKE_CURRENT_LIST_DIR}/supcon_kernels_cpu.cpp)
if(CLTCI_WITH_CUDA)
  # The fused per-chunk reductions; the C++ side calls them when build_info.h says
  # CLTCI_WITH_CUDA (a target-wide definition would invalidate the shared precompiled header).
  target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/supcon_kernels.cu)
endif()
# The pre-training methods behind ssl::Method.
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/method.cpp
  ${CMAKE_CURRENT_LIST_DIR}/method_contrastive.cpp
  ${CMAKE_CURRENT_LIST_DIR}/method_pretext.cpp)
