#!/usr/bin/env bash
# Data-parallel run of 2 CPU processes on one machine: Gloo over loopback, under torchrun from
# the project's Python environment. With run.threads 0 the processes share the cores (cores / 2
# threads each). Useful to try a data-parallel config, or to reproduce a GPU job's sharding on
# a laptop; it is not faster than one process with all the cores (docs/benchmarks.md).
#
#   scripts/launch/cpu_two_processes.sh --config FILE [pretrain/finetune flags ...]
#   scripts/launch/cpu_two_processes.sh --config configs/pretrain/phantom_cltci_simclr_unet.yaml --output runs
#   APP=finetune scripts/launch/cpu_two_processes.sh --config configs/finetune/phantom_random_unet.yaml
#
# APP: pretrain (default) or finetune; NPROC overrides the 2 processes. Every other argument goes
# to the executable after --device cpu --set run.dist_backend=gloo. Guide: docs/distributed.md.
# The checks and the torchrun call are torchrun_workstation.sh's.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if (($# == 0)); then
  echo "usage: [APP=pretrain|finetune] [NPROC=N] $0 --config FILE [flags ...]" >&2
  exit 2
fi
NPROC="${NPROC:-2}" exec "${here}/torchrun_workstation.sh" --device cpu \
  --set run.dist_backend=gloo "$@"
