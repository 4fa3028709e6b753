# Finds every dependency once, so the targets below only link imported targets.

# LibTorch 2.x: the pip wheel's share/cmake (scripts/setup.sh prints it), or any LibTorch 2.x
# through CMAKE_PREFIX_PATH.
# Torch's CMake turns TORCH_CUDA_ARCH_LIST (default: a long list starting at sm_50, which nvcc 13
# rejects) into -gencode flags in CMAKE_CUDA_FLAGS; our CUDA sources choose their architectures
# through CMAKE_CUDA_ARCHITECTURES, so ask torch for the same ones and strip its flags after.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()
# Our CUDA sources' architectures: -DCMAKE_CUDA_ARCHITECTURES (native, 90, ...), else Ampere and
# Hopper, the GPUs the toolkit is run on. Read back from the cache entry, made before torch's CMake
# enables CUDA (which would cache nvcc's own default, 75): its cuda.cmake then sets the plain
# variable to OFF, with a warning that it only reads TORCH_CUDA_ARCH_LIST.
if(DEFINED CACHE{CMAKE_CUDA_ARCHITECTURES})
  # A build directory configured before this rule holds nvcc's default under CMake's own doc.
  get_property(cltci_doc CACHE CMAKE_CUDA_ARCHITECTURES PROPERTY HELPSTRING)
  if(cltci_doc STREQUAL "CUDA architectures")
    unset(CMAKE_CUDA_ARCHITECTURES CACHE)
  endif()
endif()
set(CMAKE_CUDA_ARCHITECTURES "80;90" CACHE STRING "Architectures of the toolkit's CUDA sources")
find_package(Torch 2.0 REQUIRED)
string(REGEX REPLACE "-gencode[= ]arch=compute_[0-9a-z]+,code=[a-z_0-9]+" "" CMAKE_CUDA_FLAGS
                     "${CMAKE_CUDA_FLAGS}")
if(Torch_VERSION VERSION_LESS 2.0)
  message(FATAL_ERROR "LibTorch ${Torch_VERSION} found; the toolkit needs LibTorch 2.x")
endif()
# TorchConfig exports a flat list; wrap it in one interface target so ours link cleanly.
add_library(cltci_torch INTERFACE)
target_link_libraries(cltci_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(cltci_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
target_compile_options(cltci_torch INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:${TORCH_CXX_FLAGS}>)

set(cltci_torch_has_cuda OFF)
if(TARGET torch_cuda OR CAFFE2_USE_CUDA)
  set(cltci_torch_has_cuda ON)
endif()
if(CLTCI_CUDA STREQUAL "AUTO")
  set(CLTCI_WITH_CUDA ${cltci_torch_has_cuda})
elseif(CLTCI_CUDA)
  if(NOT cltci_torch_has_cuda)
    message(FATAL_ERROR "CLTCI_CUDA=ON but the LibTorch found (${Torch_DIR}) has no CUDA")
  endif()
  set(CLTCI_WITH_CUDA ON)
else()
  set(CLTCI_WITH_CUDA OFF)
endif()
if(CLTCI_WITH_CUDA)
  set(CMAKE_CUDA_ARCHITECTURES "$CACHE{CMAKE_CUDA_ARCHITECTURES}")
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
endif()
message(STATUS "cltci: LibTorch ${Torch_VERSION} (CUDA sources: ${CLTCI_WITH_CUDA})")

set(CLTCI_OPENCV_COMPONENTS core imgproc)
if(CLTCI_IMAGE_CODECS)
  list(APPEND CLTCI_OPENCV_COMPONENTS imgcodecs)
endif()
find_package(OpenCV 4 REQUIRED COMPONENTS ${CLTCI_OPENCV_COMPONENTS})
message(STATUS "cltci: image codecs through OpenCV imgcodecs: ${CLTCI_IMAGE_CODECS}")
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(GIF REQUIRED)
find_package(Threads REQUIRED)

set(CLTCI_WITH_DICOM OFF)
if(NOT CLTCI_DICOM STREQUAL "OFF")
  find_package(DCMTK CONFIG QUIET)
  if(DCMTK_FOUND)
    set(CLTCI_WITH_DICOM ON)
  elseif(CLTCI_DICOM STREQUAL "ON")
    message(FATAL_ERROR "CLTCI_DICOM=ON but DCMTK was not found (apt-get install libdcmtk-dev)")
  endif()
endif()
message(STATUS "cltci: DICOM through DCMTK: ${CLTCI_WITH_DICOM}")

if(CLTCI_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

include(CltciFmtShadow)
cltci_make_fmt_shadow(CLTCI_FMT_SHADOW_DIR)
