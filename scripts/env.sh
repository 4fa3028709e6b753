# Shared settings of the scripts (sourced, not run). Every value can be set from the environment.
# Pinned versions: torch 2.11.0 is the LibTorch built against; it matches the CUDA 13.0 toolkit
# of the build machines, and the Python torch of the GPU hosts we test on.
: "${CLTCI_TORCH_VERSION:=2.11.0}"
: "${CLTCI_TORCHVISION_VERSION:=0.26.0}"
: "${CLTCI_SMP_VERSION:=0.6.0}"
: "${CLTCI_MONAI_VERSION:=1.6.1}"
: "${CLTCI_PYDICOM_VERSION:=3.0.2}"
: "${CLTCI_SAFETENSORS_VERSION:=0.8.0}"
# SciPy is the reference for the paired statistics (Wilcoxon, paired t); 1.17 supports numpy 2.4.
: "${CLTCI_SCIPY_VERSION:=1.17.1}"
# The environment lives outside the clone, so fresh clones (CI) reuse the ~4 GB install.
: "${CLTCI_VENV:=${XDG_CACHE_HOME:-${HOME}/.cache}/cltci/venv-torch${CLTCI_TORCH_VERSION}}"
: "${CLTCI_BUILD_DIR:=build}"
: "${CLTCI_BUILD_TYPE:=Release}"
export CLTCI_TORCH_VERSION CLTCI_VENV CLTCI_BUILD_DIR CLTCI_BUILD_TYPE
