# Unit tests of the dist layer: launch environments, collectives between ranks on loopback
# (threads and forked processes), gradient buckets, cross-rank methods.
target_sources(cltci_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/dist_test_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/group_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/launch_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/methods_across_ranks_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/trainer_across_ranks_test.cpp)
