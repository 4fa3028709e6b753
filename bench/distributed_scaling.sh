#!/usr/bin/env bash
# Data-parallel scaling benchmark (issue #11; not a CI test): pre-trains CL-TCI-MoCo and
# CL-TCI-SimCLR U-Nets on the phantom with 1 and 2 processes at the same global batch and
# prints, for each, images/s end to end (summary.json), the time per step each rank waited for
# the others (gradient all-reduce not hidden by backward, plus the loss agreement) beside the
# time per step, and the speed-up. On a CPU box the processes are Gloo ranks sharing the cores
# (1 process x T threads against 2 x T/2); where GPUs are visible, NCCL ranks, one per GPU, for
# 1, 2, ... up to the GPUs found.
#
#   bench/distributed_scaling.sh [OUTPUT_DIR] [EPOCHS]   (defaults: bench-output/distributed, 3)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${root}/scripts/env.sh"
bin="${root}/${CLTCI_BUILD_DIR}/apps"
torchrun="${CLTCI_VENV}/bin/torchrun"
out="$(realpath -m "${1:-${root}/bench-output/distributed}")"
epochs="${2:-3}"
[[ -x "${bin}/pretrain" ]] || { echo "distributed_scaling: build the apps first (scripts/build.sh)" >&2; exit 2; }
[[ -x "${torchrun}" ]] || { echo "distributed_scaling: no torchrun in ${CLTCI_VENV} (scripts/setup.sh)" >&2; exit 2; }
mkdir -p "${out}"
cd "${root}"

gpus=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then gpus=$(nvidia-smi -L | wc -l); fi
cores=$(nproc)
if ((gpus > 0)); then
  hardware="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1) x ${gpus}"
  device=cuda
  counts=$(seq 1 "${gpus}")
else
  hardware="$(lscpu | sed -n 's/^Model name: *//p' | head -n 1), ${cores} cores"
  device=cpu
  counts="1 2"
fi
echo "hardware: ${hardware}; global batch 16, 64 px, phantom v2 (60 patients), ${epochs} epochs"
printf '%-13s %5s %9s %10s %14s %8s\n' method procs threads "img/s" "wait ms/step" speedup
for method in cltci_moco cltci_simclr; do
  base=""
  for procs in ${counts}; do
    threads=1
    if [[ "${device}" == cpu ]]; then threads=$((cores / procs)); ((threads >= 1)) || threads=1; fi
    args=(--config configs/pretrain/phantom_cltci_moco_unet.yaml --device "${device}"
          --threads "${threads}" --set "method.name=${method}" --set "optim.epochs=${epochs}"
          --set optim.warmup_epochs=0 --set run.probe_every=1000 --set "data.cache_dir=${out}/cache"
          --output "${out}/${method}-${procs}" --overwrite --log-level warn)
    if ((procs == 1)); then
      "${bin}/pretrain" "${args[@]}" >/dev/null
    else
      "${torchrun}" --standalone --nproc-per-node "${procs}" --no-python "${bin}/pretrain" \
        "${args[@]}" >/dev/null
    fi
    summary="${out}/${method}-${procs}/phantom_cltci_moco_unet/summary.json"
    read -r rate wait < <("${CLTCI_VENV}/bin/python" - "${summary}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(s["images_per_second"], 1e3 * s.get("sync_seconds_per_step", 0.0))
PY
)
    [[ -n "${base}" ]] || base="${rate}"
    speedup=$("${CLTCI_VENV}/bin/python" -c "print(f'{${rate} / ${base}:.2f}')")
    step_ms=$("${CLTCI_VENV}/bin/python" -c "print(f'{16e3 / ${rate}:.0f}')")
    printf '%-13s %5s %9s %10.1f %8.1f/%-5s %8s\n' "${method}" "${procs}" "${threads}" "${rate}" \
      "${wait}" "${step_ms}" "${speedup}x"
  done
done
