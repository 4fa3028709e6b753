#!/usr/bin/env bash
# Data-parallel run on one machine with several GPUs: one process per GPU under torchrun (from
# the project's Python environment), NCCL between them. optim.batch_size stays the global batch.
#
#   scripts/launch/torchrun_workstation.sh --config FILE [pretrain/finetune flags ...]
#   NPROC=2 scripts/launch/torchrun_workstation.sh --config configs/pretrain/cltci_moco_unet.yaml
#   APP=finetune scripts/launch/torchrun_workstation.sh --config configs/finetune/jsrt_unet.yaml
#
# NPROC: processes (default: the GPUs nvidia-smi lists; CUDA_VISIBLE_DEVICES picks which).
# APP: pretrain (default) or finetune. Every other argument goes to the executable, unchanged.
# Guide: docs/distributed.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$(dirname "${here}")")"
source "${root}/scripts/env.sh"

app="${APP:-pretrain}"
case "${app}" in
  pretrain | finetune) ;;
  *) echo "torchrun_workstation: APP must be pretrain or finetune (got '${app}')" >&2; exit 2 ;;
esac
if (($# == 0)); then
  echo "usage: [NPROC=N] [APP=pretrain|finetune] $0 --config FILE [flags ...]" >&2
  exit 2
fi
build_dir="${CLTCI_BUILD_DIR}"
[[ "${build_dir}" == /* ]] || build_dir="${root}/${build_dir}"
bin="${build_dir}/apps/${app}"
[[ -x "${bin}" ]] || { echo "torchrun_workstation: ${bin} not found; build it first (scripts/build.sh)" >&2; exit 2; }
torchrun="${CLTCI_VENV}/bin/torchrun"
[[ -x "${torchrun}" ]] || { echo "torchrun_workstation: no torchrun in ${CLTCI_VENV} (run scripts/setup.sh)" >&2; exit 2; }

if [[ -n "${NPROC:-}" ]]; then
  nproc="${NPROC}"
else
  if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "torchrun_workstation: no GPU listed by nvidia-smi; set NPROC, or use" \
      "scripts/launch/cpu_two_processes.sh for CPU processes" >&2
    exit 2
  fi
  nproc="$(nvidia-smi -L | wc -l)"
fi
[[ "${nproc}" =~ ^[1-9][0-9]*$ ]] || { echo "torchrun_workstation: NPROC must be a positive integer (got '${nproc}')" >&2; exit 2; }

# --standalone: a rendezvous on localhost at a free port; --no-python: the executable itself.
exec "${torchrun}" --standalone --nproc-per-node "${nproc}" --no-python "${bin}" "$@"
