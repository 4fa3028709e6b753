# Sources of the ssl layer (explicit list).
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/moco.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pirl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rotation.cpp
  ${CMAKE_CURRENT_LIST_DIR}/supcon.cpp
  ${CMAKE_CURRENT_LIST_DIR}/supcon_kernels_cpu.cpp)
if(CLTCI_WITH_CUDA)
  # Torch's CMake appends -gencode flags for every architecture of its default list (sm_50
  # included, which nvcc 13 rejects) to CMAKE_CUDA_FLAGS; the project picks architectures through
  # CMAKE_CUDA_ARCHITECTURES, so drop torch's in this directory. (The better place is next to
  # find_package(Torch), e.g. TORCH_CUDA_ARCH_LIST; this keeps the .cu building until then.)
  string(REGEX REPLACE "-gencode[= ]arch=compute_[0-9a-z]+,code=[a-z_0-9]+" "" CMAKE_CUDA_FLAGS
                       "${CMAKE_CUDA_FLAGS}")
  # The fused per-chunk reductions; the C++ side calls them when build_info.h says
  # CLTCI_WITH_CUDA (a target-wide definition would invalidate the shared precompiled header).
  target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/supcon_kernels.cu)
endif()
