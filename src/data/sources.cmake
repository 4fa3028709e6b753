# Sources of the data layer (explicit list): file formats, manifest and importers live in
# sources_io.cmake; the pipeline from source records to batches here.
include(${CMAKE_CURRENT_LIST_DIR}/sources_io.cmake)
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/acquisition_time.cpp
  ${CMAKE_CURRENT_LIST_DIR}/augment.cpp
  ${CMAKE_CURRENT_LIST_DIR}/batch_augment.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dataset_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dataset_from_manifest.cpp
  ${CMAKE_CURRENT_LIST_DIR}/folds.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_batch.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/phantom.cpp
  ${CMAKE_CURRENT_LIST_DIR}/phantom_export.cpp
  ${CMAKE_CURRENT_LIST_DIR}/phantom_v2.cpp
  ${CMAKE_CURRENT_LIST_DIR}/phantom_v2_stay.cpp
  ${CMAKE_CURRENT_LIST_DIR}/samplers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/square_geometry.cpp)
