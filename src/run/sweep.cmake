# The sweep runner: job graph, locks, state, estimates, and the plan/run/slurm entry points.
target_sources(cltci PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/sweep.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sweep_estimate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sweep_graph.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sweep_state.cpp)
