# Data-parallel runs of pretrain and finetune (issue #11): 2 Gloo processes on loopback under
# torchrun (from the project's Python environment) reproduce one process, and a killed rank ends
# the other within the timeout. The script compares the exported weights with safetensors.
get_filename_component(cltci_python_bin ${CLTCI_PYTHON} DIRECTORY)
set(cltci_dist_out ${CMAKE_CURRENT_BINARY_DIR}/cli-distributed)
add_test(NAME cli.distributed.equivalence
         COMMAND ${CLTCI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/distributed.py equivalence
                 $<TARGET_FILE:pretrain> $<TARGET_FILE:finetune> ${cltci_python_bin}/torchrun
                 ${cltci_dist_out}/equivalence)
add_test(NAME cli.distributed.killed_rank
         COMMAND ${CLTCI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/distributed.py killed
                 $<TARGET_FILE:pretrain> ${cltci_dist_out}/killed)
# Each starts several processes of 1 thread; two at once would only slow both.
set_tests_properties(cli.distributed.equivalence cli.distributed.killed_rank PROPERTIES
                     TIMEOUT 900 RUN_SERIAL ON)
