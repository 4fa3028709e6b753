#!/usr/bin/env bash
# Configures and builds the toolkit in ${CLTCI_BUILD_DIR} (default build/) against the pinned
# LibTorch. Extra arguments go to CMake's configure step (e.g. -DCLTCI_BUILD_TESTS=OFF).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${here}/env.sh"

# CLTCI_SETUP_FLAGS=--no-python-checks skips the cross-check packages (the demo needs none).
read -r -a setup_flags <<<"${CLTCI_SETUP_FLAGS:-}"
prefix="$("${here}/setup.sh" --print-prefix "${setup_flags[@]}" | tail -n 1)"
jobs="${CLTCI_JOBS:-$(nproc)}"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

cd "${root}"
if [[ ! -f "${CLTCI_BUILD_DIR}/build.ninja" ]]; then
  echo "[build] configuring ${CLTCI_BUILD_DIR} (${CLTCI_BUILD_TYPE})" >&2
  cmake -S . -B "${CLTCI_BUILD_DIR}" -G Ninja -DCMAKE_BUILD_TYPE="${CLTCI_BUILD_TYPE}" \
    -DCMAKE_PREFIX_PATH="${prefix}" -DCLTCI_PYTHON="${CLTCI_VENV}/bin/python" \
    "${launcher[@]}" "$@" >&2
elif (($#)); then
  cmake -S . -B "${CLTCI_BUILD_DIR}" "$@" >&2
fi
# CLTCI_BUILD_TARGETS (space-separated) builds only those targets: the demo needs the library
# and the apps, not the test suite.
read -r -a targets <<<"${CLTCI_BUILD_TARGETS:-}"
if ((${#targets[@]})); then
  echo "[build] building ${targets[*]} with ${jobs} jobs" >&2
  cmake --build "${CLTCI_BUILD_DIR}" -j "${jobs}" --target "${targets[@]}"
else
  echo "[build] building with ${jobs} jobs" >&2
  cmake --build "${CLTCI_BUILD_DIR}" -j "${jobs}"
fi
