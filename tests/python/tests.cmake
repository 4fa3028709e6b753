# Python cross-checks against torchvision, segmentation_models_pytorch and MONAI.
# Weight interchange: a small C++ helper exports/imports ResNet-50 weights as safetensors, and
# check_interchange.py loads them into torchvision and smp (and writes the reverse direction).
add_executable(cltci_interchange_helper ${CMAKE_CURRENT_LIST_DIR}/interchange_helper.cpp)
target_link_libraries(cltci_interchange_helper PRIVATE cltci::cltci)
cltci_enable_warnings(cltci_interchange_helper)
cltci_reuse_pch(cltci_interchange_helper)
add_test(NAME models_python_interchange
         COMMAND ${CLTCI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_interchange.py
                 $<TARGET_FILE:cltci_interchange_helper>
                 ${CMAKE_CURRENT_BINARY_DIR}/models_python_interchange)
set_tests_properties(models_python_interchange PROPERTIES TIMEOUT 600 LABELS python)
