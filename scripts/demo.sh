#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, and runs the whole chain on the
# built-in phantom on the CPU:
#   prepare (synthetic longitudinal X-rays + lung label maps, written as PNGs and a manifest)
#   -> pretrain (CL-TCI-MoCo, small U-Net)
#   -> finetune (random and CL-TCI-MoCo initialisation, M = 10 and 20, 5 folds)
#   -> evaluate (Dice per fold, overlays) -> report (the paper's table).
# Re-running it resumes/skips finished work; CLTCI_DEMO_OUTPUT sets where it writes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${here}/env.sh"
"${here}/build.sh" >&2
bin="${root}/${CLTCI_BUILD_DIR}/apps"
out="${CLTCI_DEMO_OUTPUT:-${root}/demo-output}"
cd "${root}"

step() {  # step NAME COMMAND...
  local name="$1"; shift
  echo "== ${name}" >&2
  local code=0
  "$@" || code=$?
  if ((code != 0)); then
    echo "== ${name} stopped with exit code ${code}; see the message above." >&2
    exit "${code}"
  fi
}

start=$(date +%s)
mkdir -p "${out}"
data="${out}/phantom-data"
if [[ ! -f "${data}/manifest.csv" ]]; then
  step prepare "${bin}/prepare" phantom --output "${data}" --patients 40 --images-per-patient 1 4 \
    --seed 11
fi
# Every stage reads the prepared manifest, and caches its decoded images in one place.
source_flags=(--set data.source.type=manifest --set "data.source.path=${data}/manifest.csv"
              --set "data.cache_dir=${out}/cache" --output "${out}")
# 100 epochs instead of the config's 10 (a smoke-test length): still about a minute here.
step pretrain "${bin}/pretrain" --config configs/pretrain/phantom_cltci_moco_unet.yaml \
  "${source_flags[@]}" --set optim.epochs=100 --set optim.warmup_epochs=10
step "finetune (random init)" "${bin}/finetune" --config configs/finetune/phantom_random_unet.yaml \
  "${source_flags[@]}"
step "finetune (CL-TCI-MoCo init)" "${bin}/finetune" \
  --config configs/finetune/phantom_pretrained_unet.yaml "${source_flags[@]}" \
  --set "init.pretrain_run=${out}/phantom_cltci_moco_unet"
for run in phantom_random_unet phantom_pretrained_unet; do
  step "evaluate ${run}" "${bin}/evaluate" --config configs/evaluate/phantom.yaml \
    --finetune-run "${out}/${run}" --output "${out}" >/dev/null
done
echo
"${bin}/report" "${out}/phantom_random_unet_eval" "${out}/phantom_pretrained_unet_eval" \
  --output "${out}/table.txt"
echo
echo "Demo finished in $(( $(date +%s) - start )) s. Everything is under ${out}:"
echo "  phantom-data/ (PNGs + manifest.csv), phantom_cltci_moco_unet/ (encoder.safetensors),"
echo "  phantom_{random,pretrained}_unet/fold*/m*/ (models), *_eval/ (results.csv, summary.json,"
echo "  overlays/*.png), table.txt"
