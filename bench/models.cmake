# Forward+backward throughput of the models (images/s), fp32 and bf16 autocast on the CPU.
add_executable(cltci_models_bench ${CMAKE_CURRENT_SOURCE_DIR}/models_bench.cpp)
target_link_libraries(cltci_models_bench PRIVATE cltci_cli)
cltci_enable_warnings(cltci_models_bench)
cltci_reuse_pch(cltci_models_bench)
