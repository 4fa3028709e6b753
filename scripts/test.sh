#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test through ctest
# (C++ unit tests, the executables' command-line tests, the Python cross-checks against
# torchvision, segmentation_models_pytorch and MONAI, and the style checks). GPU tests (*_CUDA)
# skip without a GPU.
#
# CLTCI_STRICT=1 (what .ci/run sets) adds what CI enforces on every push: warnings as errors,
# clang-tidy on the C++ files the last commit touches (scripts/tidy.sh) and a bounded run of
# every fuzzer (scripts/fuzz.sh --ci). The heavier checks (clang-tidy on every file, the build
# without the precompiled header, the ASan + UBSan build of the unit tests) are
# scripts/ci_heavy.sh's: see CONTRIBUTING.md, "CI".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${here}/env.sh"
strict="${CLTCI_STRICT:-0}"
if [[ "${strict}" == 1 ]]; then
  "${here}/build.sh" -DCLTCI_WARNINGS_AS_ERRORS=ON
else
  "${here}/build.sh"
fi
cd "$(dirname "${here}")"
ctest --test-dir "${CLTCI_BUILD_DIR}" --output-on-failure -j "${CLTCI_TEST_JOBS:-2}" "$@"
if [[ "${strict}" == 1 ]]; then
  bash "${here}/tidy.sh"
fi
# The bounded fuzz stage (~3 min on 2 cores: build-fuzz/ of the parser sources, then every
# fuzzer for 20 s, two at once). On in CI (CI=true) or strict runs unless CLTCI_CI_FUZZ=0; the
# heavy job (scripts/ci_heavy.sh) gives each fuzzer 10 minutes.
fuzz_default=0
if [[ "${CI:-}" == true || "${strict}" == 1 ]]; then fuzz_default=1; fi
read -r -a fuzz_targets <<<"${CLTCI_CI_FUZZ_TARGETS:-}"
if [[ "${CLTCI_CI_FUZZ:-${fuzz_default}}" == 1 ]]; then
  CLTCI_FUZZ_SECONDS="${CLTCI_FUZZ_SECONDS:-20}" bash "${here}/fuzz.sh" --ci "${fuzz_targets[@]}"
fi
