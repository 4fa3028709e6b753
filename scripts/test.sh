#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test through ctest
# (C++ unit tests, the executables' command-line tests, and the Python cross-checks against
# torchvision, segmentation_models_pytorch and MONAI). GPU tests (*_CUDA) skip without a GPU.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${here}/env.sh"
"${here}/build.sh"
cd "$(dirname "${here}")"
ctest --test-dir "${CLTCI_BUILD_DIR}" --output-on-failure -j "${CLTCI_TEST_JOBS:-2}" "$@"
