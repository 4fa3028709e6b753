# Contrastive loss benchmark: memory-bounded (chunked) vs full-matrix SupCon on the CPU.
add_executable(ssl_bench ${CMAKE_CURRENT_LIST_DIR}/ssl_bench.cpp)
target_link_libraries(ssl_bench PRIVATE cltci_cli)
cltci_enable_warnings(ssl_bench)
cltci_reuse_pch(ssl_bench)
