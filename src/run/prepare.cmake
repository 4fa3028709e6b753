# `prepare`: phantom export, import into a manifest, manifest check.
target_sources(cltci PRIVATE ${CMAKE_CURRENT_LIST_DIR}/prepare.cpp)
