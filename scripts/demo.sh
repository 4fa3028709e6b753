#!/usr/bin/env bash
# The README's main job: installs what is missing, builds the library and the apps (not the
# tests), and runs the whole chain on the built-in phantom v2 on the CPU:
#   prepare  (synthetic paediatric ICU films + lung label maps as PNGs and a manifest: the
#             fine-tuning data set)
#   pretrain (CL-TCI-MoCo, small U-Net, on other phantom patients; representation probes)
#   evaluate --embed (embeddings.csv and the t-SNE map of the pre-trained encoder)
#   finetune (random and CL-TCI-MoCo initialisation, M = 10 and 20, 5 folds x 2 seeds)
#   evaluate (Dice per cell, overlays) -> report (the paper's table and the paired test).
# Re-running it resumes/skips finished work; CLTCI_DEMO_OUTPUT sets where it writes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${here}/env.sh"
CLTCI_BUILD_TARGETS="${CLTCI_BUILD_TARGETS:-prepare pretrain finetune evaluate report}" \
  CLTCI_SETUP_FLAGS="${CLTCI_SETUP_FLAGS:---no-python-checks}" "${here}/build.sh" >&2
bin="${root}/${CLTCI_BUILD_DIR}/apps"
out="$(realpath -m "${CLTCI_DEMO_OUTPUT:-${root}/demo-output}")"
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
  step "prepare (fine-tuning data: phantom v2, 40 patients)" "${bin}/prepare" phantom \
    --output "${data}" --phantom-version 2 --patients 40 --images-per-patient 1 4 --seed 11
fi
cache=(--set "data.cache_dir=${out}/cache" --output "${out}")
step "pretrain (CL-TCI-MoCo on 60 other phantom patients, 100 epochs)" "${bin}/pretrain" \
  --config configs/pretrain/phantom_cltci_moco_unet.yaml "${cache[@]}"
step "evaluate --embed (t-SNE of the pre-trained encoder)" "${bin}/evaluate" --embed \
  --pretrain-run "${out}/phantom_cltci_moco_unet" --output "${out}" --log-level warn

# The two fine-tuning runs side by side, one torch thread each: on 2 cores that is faster than
# one after the other with 2 threads for networks this small.
source_flags=(--set data.source.type=manifest --set "data.source.path=${data}/manifest.csv"
              "${cache[@]}" --threads 1 --log-level warn)
echo "== finetune (random and CL-TCI-MoCo init, 5 folds x M = 10, 20 x 2 seeds; logs in run.log)" >&2
"${bin}/finetune" --config configs/finetune/phantom_random_unet.yaml "${source_flags[@]}" &
random_pid=$!
code=0
"${bin}/finetune" --config configs/finetune/phantom_pretrained_unet.yaml "${source_flags[@]}" \
  --set "init.pretrain_run=${out}/phantom_cltci_moco_unet" || code=$?
wait "${random_pid}" || code=$?
if ((code != 0)); then echo "== finetune stopped with exit code ${code}" >&2; exit "${code}"; fi
for run in phantom_random_unet phantom_pretrained_unet; do
  step "evaluate ${run}" "${bin}/evaluate" --config configs/evaluate/phantom.yaml \
    --finetune-run "${out}/${run}" --output "${out}" --log-level warn >/dev/null
done

echo
"${bin}/report" "${out}/phantom_random_unet_eval" "${out}/phantom_pretrained_unet_eval" \
  --output "${out}/table.txt" --summary "${out}/report.json" --overwrite
echo
echo "Probe of the pre-trained encoder (un-augmented pre-training images, same-patient retrieval):"
grep -h "\[probe\] before training\|\[probe\] epoch 100/" "${out}/phantom_cltci_moco_unet/run.log" |
  sed -e 's/^.*\[probe\] /  /' -e 's/ | head.*//'
echo
echo "Demo finished in $(( $(date +%s) - start )) s. Everything is under ${out}:"
echo "  phantom-data/ (PNGs + manifest.csv), phantom_cltci_moco_unet/ (encoder.safetensors,"
echo "  metrics.csv with probe columns), phantom_cltci_moco_unet_embed/tsne.png,"
echo "  phantom_{random,pretrained}_unet/fold*/m*/seed*/ (models), *_eval/ (results.csv,"
echo "  summary.json, overlays/*.png), table.txt, report.json"
