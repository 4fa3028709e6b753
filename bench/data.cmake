# Data pipeline benchmark: augmented views per second and cache load time.
add_executable(cltci_data_bench ${CMAKE_CURRENT_LIST_DIR}/data_bench.cpp)
target_link_libraries(cltci_data_bench PRIVATE cltci_cli)
cltci_enable_warnings(cltci_data_bench)
cltci_reuse_pch(cltci_data_bench)
