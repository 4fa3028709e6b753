# Patient identity in the phantom's raw pixels (v1 vs v2): same- vs other-patient RMS distance
# and 1-NN same-patient retrieval at the network's input size.
add_executable(cltci_phantom_bench ${CMAKE_CURRENT_LIST_DIR}/phantom_bench.cpp)
target_link_libraries(cltci_phantom_bench PRIVATE cltci_cli)
cltci_enable_warnings(cltci_phantom_bench)
cltci_reuse_pch(cltci_phantom_bench)
