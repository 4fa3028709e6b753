# Sources of the dist layer (explicit list): launch environment, c10d process group, collectives
# with autograd, gradient buckets.
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/backend_gloo.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backend_nccl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gather.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gradient_sync.cpp
  ${CMAKE_CURRENT_LIST_DIR}/group.cpp
  ${CMAKE_CURRENT_LIST_DIR}/launch.cpp)
if(CLTCI_WITH_CUDA)
  # ProcessGroupNCCL.hpp includes nccl.h and the CUDA runtime's headers. The wheel's own NCCL
  # (nvidia-nccl-cu13, beside torch in site-packages) matches the library torch_cuda loads.
  find_path(CLTCI_NCCL_INCLUDE_DIR nccl.h
            HINTS ${Torch_DIR}/../../../../nvidia/nccl/include ${CUDAToolkit_INCLUDE_DIRS}
                  /usr/local/cuda/include
            NO_DEFAULT_PATH)
  if(NOT CLTCI_NCCL_INCLUDE_DIR)
    message(FATAL_ERROR "cltci: nccl.h not found (the torch wheel's nvidia-nccl package or the CUDA toolkit)")
  endif()
  find_package(CUDAToolkit QUIET)
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/backend_nccl.cpp PROPERTIES
    INCLUDE_DIRECTORIES "${CLTCI_NCCL_INCLUDE_DIR};${CUDAToolkit_INCLUDE_DIRS}")
endif()
