# Data I/O: manifest, image decoding and writing, importers (explicit list).
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/csv.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dicom_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dicom_codecs.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dicom_tags.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gif_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_io.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_writers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/jsrt_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/manifest.cpp)
