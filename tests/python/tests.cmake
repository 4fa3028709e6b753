# Python cross-checks against torchvision, segmentation_models_pytorch and MONAI.
