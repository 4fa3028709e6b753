#!/usr/bin/env bash
# The sanitizer job: an ASan + UBSan Debug build of the unit tests in ${CLTCI_SANITIZE_BUILD_DIR}
# (default build-asan/), then one run of the unit-test binary. Any report fails the run: UBSan
# halts on the first finding, ASan on the first bad access, LeakSanitizer at exit. Extra
# arguments go to the test binary (e.g. --gtest_filter='Safetensors*').
#
# Heavy: the whole library and the unit tests in Debug with ASan, so it is a job of its own, not
# part of .ci/run (CONTRIBUTING.md, "Fuzzing and sanitizers"). CUDA sources are off in this
# build: nvcc does not instrument, and the GPU tests skip without a GPU anyway.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${here}/env.sh"

build_dir="${CLTCI_SANITIZE_BUILD_DIR:-build-asan}"
jobs="${CLTCI_JOBS:-$(nproc)}"
prefix="$("${here}/setup.sh" --print-prefix --no-python-checks | tail -n 1)"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

cd "${root}"
if [[ ! -f "${build_dir}/build.ninja" ]]; then
  echo "[sanitize] configuring ${build_dir} (Debug, address;undefined)" >&2
  cmake -S . -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_PREFIX_PATH="${prefix}" \
    "-DCLTCI_SANITIZE=address;undefined" -DCLTCI_BUILD_TESTS=ON -DCLTCI_CUDA=OFF \
    -DCLTCI_PYTHON= "${launcher[@]}" >&2
fi
start=$(date +%s)
echo "[sanitize] building cltci_tests with ${jobs} jobs" >&2
cmake --build "${build_dir}" -j "${jobs}" --target cltci_tests
echo "[sanitize] build took $(($(date +%s) - start)) s" >&2

supp="${root}/tests/sanitize"
# LibTorch's and OpenCV's allocations are not instrumented, but LeakSanitizer still sees them;
# lsan.supp names the few they never free on purpose. Leaks of our own code are not suppressed.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_init_order=1:check_initialization_order=1:detect_stack_use_after_return=1:abort_on_error=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=${supp}/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=${supp}/ubsan.supp}"
start=$(date +%s)
code=0
"${build_dir}/tests/cltci_tests" "$@" || code=$?
echo "[sanitize] unit tests took $(($(date +%s) - start)) s, exit code ${code}" >&2
exit "${code}"
