# The sweep runner: graph expansion, locks, state (added to cltci_tests).
target_sources(cltci_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/sweep_graph_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sweep_state_test.cpp)
