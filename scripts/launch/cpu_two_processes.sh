#!/usr/bin/env bash
# Data-parallel run of 2 CPU processes on one machine: Gloo over loopback, under torchrun from
# the project's Python environment. With run.threads 0 the processes share the cores (cores / 2
# threads each). Useful to try a data-parallel config, or to reproduce a GPU job's sharding on
# a laptop; it is not faster than one process with all the cores.
#
#   scripts/launch/cpu_two_processes.sh --config FILE [pretrain/finetune flags ...]
#   scripts/launch/cpu_two_processes.sh --config configs/pretrain/phantom_cltci_simclr_unet.yaml --output runs
#   APP=finetune scripts/launch/cpu_two_processes.sh --config configs/finetune/phantom_random_unet.yaml
#
# APP: pretrain (default) or finetune; NPROC overrides the 2 processes. Every other argument goes
# to the executable after --device cpu --set run.dist_backend=gloo. Guide: docs/distributed.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$(dirname "${here}")")"
source "${root}/scripts/env.sh"

app="${APP:-pretrain}"
case "${app}" in
  pretrain | finetune) ;;
  *) echo "cpu_two_processes: APP must be pretrain or finetune (got '${app}')" >&2; exit 2 ;;
esac
if (($# == 0)); then
  echo "usage: [APP=pretrain|finetune] $0 --config FILE [flags ...]" >&2
  exit 2
fi
nproc="${NPROC:-2}"
[[ "${nproc}" =~ ^[1-9][0-9]*$ ]] || { echo "cpu_two_processes: NPROC must be a positive integer (got '${nproc}')" >&2; exit 2; }
build_dir="${CLTCI_BUILD_DIR}"
[[ "${build_dir}" == /* ]] || build_dir="${root}/${build_dir}"
bin="${build_dir}/apps/${app}"
[[ -x "${bin}" ]] || { echo "cpu_two_processes: ${bin} not found; build it first (scripts/build.sh)" >&2; exit 2; }
torchrun="${CLTCI_VENV}/bin/torchrun"
[[ -x "${torchrun}" ]] || { echo "cpu_two_processes: no torchrun in ${CLTCI_VENV} (run scripts/setup.sh)" >&2; exit 2; }

exec "${torchrun}" --standalone --nproc-per-node "${nproc}" --no-python "${bin}" \
  --device cpu --set run.dist_backend=gloo "$@"
