#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds as scripts/build.sh does and runs the GPU tests
# (*_CUDA), which everywhere else are listed and skipped. Here a skip is a failure: a GPU test
# that did not run proves nothing. Extra arguments go to ctest (e.g. --repeat until-fail:3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${here}/env.sh"
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_tests: no NVIDIA GPU here (nvidia-smi -L fails); the *_CUDA tests need one" >&2
  exit 2
fi
nvidia-smi -L >&2
"${here}/build.sh"
cd "$(dirname "${here}")"
log="${CLTCI_BUILD_DIR}/gpu_tests.log"
ctest --test-dir "${CLTCI_BUILD_DIR}" -R '_CUDA$' --output-on-failure -j 1 "$@" | tee "${log}"
if grep -q "(Skipped)" "${log}"; then
  echo "gpu_tests: some *_CUDA tests skipped although a GPU is present (does torch see it?" \
    "check CUDA_VISIBLE_DEVICES and the driver)" >&2
  exit 1
fi
echo "gpu_tests: every *_CUDA test ran and passed" >&2
