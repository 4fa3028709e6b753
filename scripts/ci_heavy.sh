#!/usr/bin/env bash
# The checks too slow for every push (on 2 cores each costs 30-60 minutes), for a nightly job or
# before a release; .ci/run (scripts/test.sh with CLTCI_STRICT=1) runs the cheap half of each:
#   1. clang-tidy on every C++ source (CI: the last commit's files)         scripts/tidy.sh --all
#   2. the build without the precompiled header, tests included, so that every file compiles on
#      its own includes (CI: the style.includes check and tidy's PCH-free compile)
#   3. the ASan + UBSan Debug build of the unit tests (CI: the sanitized fuzzers) scripts/sanitize.sh
#   4. every fuzzer for ${CLTCI_FUZZ_SECONDS:-600} s (CI: 20 s each)          scripts/fuzz.sh
# Each step runs even when an earlier one failed; the exit status says whether all passed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${here}/env.sh"
cd "${root}"

failed=()
step() {
  local name="$1"
  shift
  echo "[heavy] ${name}: $*" >&2
  local start=${SECONDS}
  if "$@"; then
    echo "[heavy] ${name}: passed in $((SECONDS - start)) s" >&2
  else
    echo "[heavy] ${name}: FAILED after $((SECONDS - start)) s" >&2
    failed+=("${name}")
  fi
}

# The tidy step needs a configured default build (compile_commands.json).
step configure bash "${here}/build.sh" -DCLTCI_WARNINGS_AS_ERRORS=ON
step tidy bash "${here}/tidy.sh" --all
step no-pch env CLTCI_BUILD_DIR="${CLTCI_NOPCH_BUILD_DIR:-build-nopch}" \
  bash "${here}/build.sh" -DCLTCI_ENABLE_PCH=OFF -DCLTCI_UNITY_BUILD=OFF -DCLTCI_WARNINGS_AS_ERRORS=ON
step sanitize bash "${here}/sanitize.sh"
step fuzz env CLTCI_FUZZ_SECONDS="${CLTCI_FUZZ_SECONDS:-600}" bash "${here}/fuzz.sh"

if ((${#failed[@]})); then
  echo "[heavy] failed: ${failed[*]}" >&2
  exit 1
fi
echo "[heavy] all passed" >&2
