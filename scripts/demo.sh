#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, and runs the pipeline on the built-in
# phantom: pretrain (CL-TCI-MoCo, small U-Net) -> finetune (random and pretrained init,
# M = 10 and 20, 5 folds) -> evaluate (Dice table on the console, overlay pictures on disk).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${here}/env.sh"
"${here}/build.sh" >&2
bin="${root}/${CLTCI_BUILD_DIR}/apps"
out="${CLTCI_DEMO_OUTPUT:-${root}/demo-output}"
mkdir -p "${out}"
cd "${root}"

run_step() {  # run_step NAME COMMAND...: runs one stage; a stage this build lacks is reported.
  local name="$1"; shift
  echo "== ${name}: $*" >&2
  local code=0
  "$@" || code=$?
  if ((code != 0)); then
    echo "== ${name} stopped with exit code ${code}; see the message above." >&2
    exit "${code}"
  fi
}

start=$(date +%s)
run_step pretrain "${bin}/pretrain" --config configs/pretrain/phantom_cltci_moco_unet.yaml \
  --output "${out}"
for init in random pretrained; do
  run_step "finetune (${init})" "${bin}/finetune" --config "configs/finetune/phantom_${init}_unet.yaml" \
    --output "${out}" --set "init.pretrain_run=${out}/phantom_cltci_moco_unet"
done
run_step evaluate "${bin}/evaluate" --config configs/evaluate/phantom.yaml --output "${out}" \
  --set "finetune_run=${out}/phantom_random_unet"
echo "Demo finished in $(( $(date +%s) - start )) s; everything was written under ${out}" >&2
