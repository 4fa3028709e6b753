# Python cross-checks against the libraries our users know (MONAI, torchvision, smp), run with
# the project's environment (CLTCI_PYTHON). Nothing is downloaded: no pretrained weights.
add_executable(cltci_dice_tool ${CMAKE_CURRENT_LIST_DIR}/dice_tool.cpp)
target_link_libraries(cltci_dice_tool PRIVATE cltci::cltci)
cltci_reuse_pch(cltci_dice_tool)
add_test(NAME python.dice_vs_monai
         COMMAND ${CLTCI_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/dice_vs_monai.py $<TARGET_FILE:cltci_dice_tool>)
