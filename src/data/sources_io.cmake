# Data I/O: manifest, image decoding and writing, importers (explicit list).
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/csv.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dicom_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dicom_tags.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dicom_transfer_syntaxes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gif_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_io.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_writers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/jsrt_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/manifest.cpp)
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/importer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lung_masks.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers/chexpert_importer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers/dicom_importer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers/folder_importer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers/importer_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers/jsrt_importer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers/mimic_importer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers/montgomery_importer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers/nih_importer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/importers/shenzhen_importer.cpp)
