# Pre-training throughput of each method (images/s) at the paper's batch sizes, fp32 and bf16.
add_executable(cltci_pretrain_bench ${CMAKE_CURRENT_LIST_DIR}/pretrain_bench.cpp)
target_link_libraries(cltci_pretrain_bench PRIVATE cltci_cli)
cltci_enable_warnings(cltci_pretrain_bench)
cltci_reuse_pch(cltci_pretrain_bench)
# --authors runs their loop through our harness, found next to this file in the source tree.
target_compile_definitions(cltci_pretrain_bench
                           PRIVATE CLTCI_AUTHORS_LOOP="${CMAKE_CURRENT_LIST_DIR}/authors_loop.py")
# GPU peak memory through c10's CUDA allocator where LibTorch has CUDA.
target_compile_definitions(cltci_pretrain_bench PRIVATE CLTCI_BENCH_CUDA=$<BOOL:${CLTCI_WITH_CUDA}>)
target_link_libraries(cltci_pretrain_bench PRIVATE ${CMAKE_DL_LIBS})
