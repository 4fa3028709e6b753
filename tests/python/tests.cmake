# Python cross-checks against the libraries our users know (MONAI, torchvision, smp), run with
# the project's environment (CLTCI_PYTHON). Nothing is downloaded: no pretrained weights.

# Dice: per-image and pooled scores equal MONAI's DiceMetric on the same predictions.
add_executable(cltci_dice_tool ${CMAKE_CURRENT_LIST_DIR}/dice_tool.cpp)
target_link_libraries(cltci_dice_tool PRIVATE cltci::cltci)
cltci_enable_warnings(cltci_dice_tool)
cltci_reuse_pch(cltci_dice_tool)
add_test(NAME python.dice_vs_monai
         COMMAND ${CLTCI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/dice_vs_monai.py
                 $<TARGET_FILE:cltci_dice_tool>)

# Surface distances: HD95 and ASSD equal MONAI's compute_hausdorff_distance(percentile=95) and
# compute_average_surface_distance(symmetric=True) on random blobs, anisotropic spacing included.
add_executable(cltci_surface_tool ${CMAKE_CURRENT_LIST_DIR}/surface_tool.cpp)
target_link_libraries(cltci_surface_tool PRIVATE cltci::cltci)
cltci_enable_warnings(cltci_surface_tool)
cltci_reuse_pch(cltci_surface_tool)
add_test(NAME python.surface_vs_monai
         COMMAND ${CLTCI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/surface_vs_monai.py
                 $<TARGET_FILE:cltci_surface_tool>)

# Weight interchange: a small C++ helper exports/imports ResNet-50 weights as safetensors, and
# check_interchange.py loads them into torchvision and smp (and writes the reverse direction).
add_executable(cltci_interchange_helper ${CMAKE_CURRENT_LIST_DIR}/interchange_helper.cpp)
target_link_libraries(cltci_interchange_helper PRIVATE cltci::cltci)
cltci_enable_warnings(cltci_interchange_helper)
cltci_reuse_pch(cltci_interchange_helper)
add_test(NAME python.models_interchange
         COMMAND ${CLTCI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_interchange.py
                 $<TARGET_FILE:cltci_interchange_helper>
                 ${CMAKE_CURRENT_BINARY_DIR}/models_python_interchange)

# Paired statistics: Wilcoxon signed-rank and paired t-test (with its interval) equal SciPy's on
# many random vectors, including SciPy's choice of exact, permutation or normal null distribution.
add_executable(cltci_stats_tool ${CMAKE_CURRENT_LIST_DIR}/stats_tool.cpp)
target_link_libraries(cltci_stats_tool PRIVATE cltci::cltci)
cltci_enable_warnings(cltci_stats_tool)
cltci_reuse_pch(cltci_stats_tool)
add_test(NAME python.stats_vs_scipy
         COMMAND ${CLTCI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/stats_vs_scipy.py
                 $<TARGET_FILE:cltci_stats_tool>)
set_tests_properties(python.models_interchange python.dice_vs_monai python.stats_vs_scipy
                     python.surface_vs_monai PROPERTIES TIMEOUT 600 LABELS python)
