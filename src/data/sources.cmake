# Sources of the data layer (explicit list). dataset_from_manifest.cpp joins once manifest.cpp
# and image_io.cpp (sources_io.cmake) are merged.
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/augment.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dataset_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/folds.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/phantom.cpp
  ${CMAKE_CURRENT_LIST_DIR}/samplers.cpp)
