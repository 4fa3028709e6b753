#!/usr/bin/env bash
# Installs what the toolkit needs on Debian 12, and only what is missing:
#   - Debian packages: compiler, CMake, Ninja, OpenCV, CLI11, yaml-cpp, spdlog, GoogleTest, DCMTK,
#     giflib, ccache, and Gloo's headers (the torch wheel ships Gloo compiled in, not its headers,
#     which c10d's ProcessGroupGloo.hpp includes);
#   - a pinned LibTorch, taken from PyPI's torch wheel, in a project-owned virtual environment
#     (never the system Python), together with the Python packages the cross-check tests use.
# Idempotent: a second run installs nothing. Prints the LibTorch CMake prefix as its last line
# when called with --print-prefix.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "${here}/env.sh"

print_prefix=0
with_python_checks=1
for arg in "$@"; do
  case "${arg}" in
    --print-prefix) print_prefix=1 ;;
    --no-python-checks) with_python_checks=0 ;;
    -h|--help)
      echo "usage: scripts/setup.sh [--print-prefix] [--no-python-checks]"; exit 0 ;;
    *) echo "setup.sh: unknown argument '${arg}'" >&2; exit 2 ;;
  esac
done

say() { echo "[setup] $*" >&2; }

sudo_cmd=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { say "not root and no sudo: cannot install Debian packages"; exit 1; }
  sudo_cmd=(sudo)
fi

# --- Debian packages -------------------------------------------------------------------------
debian_packages=(g++ cmake ninja-build pkg-config ccache python3-venv
                 libopencv-dev libcli11-dev libyaml-cpp-dev libspdlog-dev libgtest-dev
                 libdcmtk-dev libgif-dev libgloo-dev clang-format clang-tidy
                 clang libclang-rt-14-dev)  # clang + its libFuzzer/ASan runtimes: scripts/fuzz.sh
missing=()
for pkg in "${debian_packages[@]}"; do
  if dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed"; then
    continue
  fi
  missing+=("${pkg}")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
else
  say "Debian packages: all ${#debian_packages[@]} present"
fi

# --- LibTorch from PyPI's torch wheel --------------------------------------------------------
# The wheel's full dependency set (CUDA 13 runtime, cuDNN, NCCL, cuSPARSELt, NVSHMEM from PyPI) is
# installed rather than --no-deps against the system CUDA: the system toolkit lacks cuSPARSELt,
# NVSHMEM and cuFile, which libtorch_cuda.so needs to load at all, and the download is ~2.9 GB
# once per machine (about a minute here), cached outside the clone.
python_bin="$(command -v python3)"
if [[ ! -x "${CLTCI_VENV}/bin/python" ]]; then
  say "creating the project's Python environment in ${CLTCI_VENV}"
  mkdir -p "$(dirname "${CLTCI_VENV}")"
  "${python_bin}" -m venv "${CLTCI_VENV}"
fi
venv_python="${CLTCI_VENV}/bin/python"

have_version() {  # have_version DIST VERSION
  "${venv_python}" - "$1" "$2" <<'PY' 2>/dev/null
import sys
from importlib import metadata
try:
    sys.exit(0 if metadata.version(sys.argv[1]) == sys.argv[2] else 1)
except metadata.PackageNotFoundError:
    sys.exit(1)
PY
}

pip_wants=()
have_version torch "${CLTCI_TORCH_VERSION}" || pip_wants+=("torch==${CLTCI_TORCH_VERSION}")
if ((with_python_checks)); then
  have_version torchvision "${CLTCI_TORCHVISION_VERSION}" ||
    pip_wants+=("torchvision==${CLTCI_TORCHVISION_VERSION}")
  have_version segmentation-models-pytorch "${CLTCI_SMP_VERSION}" ||
    pip_wants+=("segmentation-models-pytorch==${CLTCI_SMP_VERSION}")
  have_version monai "${CLTCI_MONAI_VERSION}" || pip_wants+=("monai==${CLTCI_MONAI_VERSION}")
  have_version pydicom "${CLTCI_PYDICOM_VERSION}" || pip_wants+=("pydicom==${CLTCI_PYDICOM_VERSION}")
  have_version safetensors "${CLTCI_SAFETENSORS_VERSION}" ||
    pip_wants+=("safetensors==${CLTCI_SAFETENSORS_VERSION}")
  have_version scipy "${CLTCI_SCIPY_VERSION}" || pip_wants+=("scipy==${CLTCI_SCIPY_VERSION}")
fi
if ((${#pip_wants[@]})); then
  say "installing into ${CLTCI_VENV}: ${pip_wants[*]}"
  "${venv_python}" -m pip install --disable-pip-version-check -q "${pip_wants[@]}" >&2
else
  say "Python environment: torch ${CLTCI_TORCH_VERSION} and the cross-check packages present"
fi

prefix="$("${venv_python}" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "share", "cmake"))')"
[[ -f "${prefix}/Torch/TorchConfig.cmake" ]] || { say "no TorchConfig.cmake under ${prefix}"; exit 1; }
say "LibTorch ${CLTCI_TORCH_VERSION}: ${prefix}"
if ((print_prefix)); then echo "${prefix}"; fi
