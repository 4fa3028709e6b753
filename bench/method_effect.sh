#!/usr/bin/env bash
# Method-effect benchmark (not a CI test): on the phantom v2, pre-trains CL-TCI-MoCo, MoCo,
# CL-TCI-SimCLR, SimCLR and Rotation (U-Net), fine-tunes Random and each of them at M = 10 and 20
# with 3 seeds x 5 folds, and prints the paper-style table with the paired tests against Random
# and CL-TCI-MoCo vs MoCo, and the probes of each pre-training. Budget: under 60 minutes on 2
# cores. Re-running resumes (every stage skips finished work).
#
#   bench/method_effect.sh [OUTPUT_DIR]        (default: bench-output/method-effect)
#
# Two fine-tuning processes run side by side with 1 torch thread each: for these small networks
# that uses 2 cores better than one process with 2 threads.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${root}/scripts/env.sh"
bin="${root}/${CLTCI_BUILD_DIR}/apps"
out="$(realpath -m "${1:-${root}/bench-output/method-effect}")"
for app in prepare pretrain finetune evaluate report; do
  [[ -x "${bin}/${app}" ]] || { echo "method_effect: build the apps first (scripts/build.sh)" >&2; exit 2; }
done
mkdir -p "${out}"
cd "${root}"
start=$(date +%s)
methods=(cltci_moco moco cltci_simclr simclr rotation)
seeds="[0, 1, 2]"

data="${out}/phantom-data"
if [[ ! -f "${data}/manifest.csv" ]]; then
  # The demo's fine-tuning data set (configs/finetune/phantom_*.yaml): 40 patients, 75 films.
  "${bin}/prepare" phantom --output "${data}" --phantom-version 2 --patients 40 \
    --images-per-patient 1 4 --seed 11 >/dev/null
fi
# Pre-training reads its configs' built-in phantom (60 other patients); fine-tuning the prepared
# data set.
cache=(--set "data.cache_dir=${out}/cache" --output "${out}" --log-level warn)
common=(--set data.source.type=manifest --set "data.source.path=${data}/manifest.csv" "${cache[@]}")

echo "== pre-training (${methods[*]})" >&2
for method in "${methods[@]}"; do
  t0=$(date +%s)
  "${bin}/pretrain" --config "configs/pretrain/phantom_${method}_unet.yaml" "${cache[@]}"
  echo "   ${method}: $(( $(date +%s) - t0 )) s" >&2
done

echo "== fine-tuning: random + ${#methods[@]} initialisations x M = 10, 20 x seeds ${seeds} x 5 folds" >&2
finetune_one() {  # finetune_one NAME [INIT_RUN]
  local name="$1" init=("${@:2}")
  local flags=(--config configs/finetune/phantom_random_unet.yaml "${common[@]}" --threads 1
               --set "run.name=ft_${name}" --set "seeds=${seeds}")
  if ((${#init[@]})); then
    flags+=(--set init.type=pretrained --set "init.pretrain_run=${out}/${init[0]}")
  fi
  "${bin}/finetune" "${flags[@]}"
  "${bin}/evaluate" --config configs/evaluate/phantom.yaml --finetune-run "${out}/ft_${name}" \
    --output "${out}" --threads 1 --log-level warn >/dev/null
}
t0=$(date +%s)
pids=()
names=(random "${methods[@]}")
for i in "${!names[@]}"; do
  name="${names[$i]}"
  if [[ "${name}" == random ]]; then finetune_one random & else
    finetune_one "${name}" "phantom_${name}_unet" & fi
  pids+=($!)
  # Two at a time.
  if ((${#pids[@]} == 2)); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "${pid}"; done
echo "   fine-tuning and evaluation: $(( $(date +%s) - t0 )) s" >&2

evals=()
for name in "${names[@]}"; do evals+=("${out}/ft_${name}_eval"); done
compare=()
for method in "${methods[@]}"; do compare+=(--compare "phantom_${method}_unet:random"); done
compare+=(--compare "phantom_cltci_moco_unet:phantom_moco_unet")
echo
"${bin}/report" "${evals[@]}" "${compare[@]}" --output "${out}/table.txt" \
  --summary "${out}/report.json" --overwrite
echo
echo "Probes of each pre-training (un-augmented images of the pre-training set; encoder + pooling):"
printf '%-14s %10s %8s %8s %10s %9s %8s %8s\n' method final_loss collapse top1 chance mAP chance rank
for method in "${methods[@]}"; do
  "${CLTCI_VENV}/bin/python" - "${out}/phantom_${method}_unet/summary.json" "${method}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); e = s["probe"]["encoder"]
print(f'{sys.argv[2]:<14} {s["final_loss"]:10.4f} {s["collapse_loss"]:8.4f} {e["top1"]:8.3f} '
      f'{e["top1_chance"]:8.3f} {e["map"]:10.3f} {e["map_chance"]:9.3f} {e["effective_rank"]:8.1f}')
PY
done
echo
echo "Method-effect benchmark finished in $(( $(date +%s) - start )) s ($(nproc) cores). Under ${out}."
