target_sources(cltci_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/atomic_file_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/common_runtime_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/host_allocator_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/job_lock_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_reader_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_writer_test.cpp)
