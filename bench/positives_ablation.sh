#!/usr/bin/env bash
# Positive-rule ablation (issue #13; not a CI test): on the phantom v2 with its acquisition
# dates, pre-trains CL-TCI-MoCo (U-Net, configs/pretrain/phantom_cltci_moco_unet.yaml) with
# positives = patient (the paper), window (max_days 3) and weighted (time_scale_days 3), then
# fine-tunes Random and each of them at M = 10 with 3 seeds x 5 folds, and prints the table, the
# paired tests (each rule against Random and against the patient rule), the probes and the
# positive counts of each pre-training. About 10 minutes on 2 cores. Re-running resumes.
#
#   bench/positives_ablation.sh [OUTPUT_DIR]   (default: bench-output/positives-ablation)
#
# The window and the time scale are fixed here, before any result was seen: 3 days is about
# three daily films of the phantom's ICU stays (docs/phantom.md), the span over which its lines,
# tubes and opacities mostly persist.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${root}/scripts/env.sh"
bin="${root}/${CLTCI_BUILD_DIR}/apps"
out="$(realpath -m "${1:-${root}/bench-output/positives-ablation}")"
for app in prepare pretrain finetune evaluate report; do
  [[ -x "${bin}/${app}" ]] || { echo "positives_ablation: build the apps first (scripts/build.sh)" >&2; exit 2; }
done
mkdir -p "${out}"
cd "${root}"
start=$(date +%s)
seeds="[0, 1, 2]"
rules=(patient window weighted)
rule_flags() {  # rule_flags RULE: the --set flags of one rule
  case "$1" in
    patient) echo "--set method.positives=patient" ;;
    window) echo "--set method.positives=window --set method.max_days=3" ;;
    weighted) echo "--set method.positives=weighted --set method.time_scale_days=3" ;;
  esac
}

data="${out}/phantom-data"
if [[ ! -f "${data}/manifest.csv" ]]; then
  # The demo's fine-tuning data set (configs/finetune/phantom_*.yaml): 40 patients, 75 films.
  "${bin}/prepare" phantom --output "${data}" --phantom-version 2 --patients 40 \
    --images-per-patient 1 4 --seed 11 >/dev/null
fi
cache=(--set "data.cache_dir=${out}/cache" --output "${out}" --log-level warn)
common=(--set data.source.type=manifest --set "data.source.path=${data}/manifest.csv" "${cache[@]}")

echo "== pre-training CL-TCI-MoCo with positives: ${rules[*]}" >&2
for rule in "${rules[@]}"; do
  t0=$(date +%s)
  # shellcheck disable=SC2046  # the rule's flags are words on purpose
  "${bin}/pretrain" --config configs/pretrain/phantom_cltci_moco_unet.yaml "${cache[@]}" \
    --set "run.name=pt_${rule}" $(rule_flags "${rule}")
  echo "   ${rule}: $(( $(date +%s) - t0 )) s" >&2
done

echo "== fine-tuning: random + ${#rules[@]} rules x M = 10 x seeds ${seeds} x 5 folds" >&2
finetune_one() {  # finetune_one NAME [INIT_RUN]
  local name="$1" init=("${@:2}")
  local flags=(--config configs/finetune/phantom_random_unet.yaml "${common[@]}" --threads 1
               --set "run.name=ft_${name}" --set "seeds=${seeds}" --set "budgets=[10]")
  if ((${#init[@]})); then
    flags+=(--set init.type=pretrained --set "init.pretrain_run=${out}/${init[0]}")
  fi
  "${bin}/finetune" "${flags[@]}"
  "${bin}/evaluate" --config configs/evaluate/phantom.yaml --finetune-run "${out}/ft_${name}" \
    --output "${out}" --threads 1 --log-level warn >/dev/null
}
t0=$(date +%s)
pids=()
names=(random "${rules[@]}")
for name in "${names[@]}"; do
  if [[ "${name}" == random ]]; then finetune_one random & else finetune_one "${name}" "pt_${name}" & fi
  pids+=($!)
  if ((${#pids[@]} == 2)); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "${pid}"; done
echo "   fine-tuning and evaluation: $(( $(date +%s) - t0 )) s" >&2

evals=()
for name in "${names[@]}"; do evals+=("${out}/ft_${name}_eval"); done
compare=()
for rule in "${rules[@]}"; do compare+=(--compare "pt_${rule}:random"); done
compare+=(--compare "pt_window:pt_patient" --compare "pt_weighted:pt_patient")
echo
"${bin}/report" "${evals[@]}" "${compare[@]}" --output "${out}/table.txt" \
  --summary "${out}/report.json" --overwrite
echo
echo "Each pre-training: probes (un-augmented pre-training images; encoder + pooling) and positives"
echo "from other images of the patient (data: per image; last epoch: per anchor, in the queue):"
printf '%-9s %10s %8s %7s %7s %6s | %9s %9s | %9s %9s %9s\n' rule final_loss collapse top1 mAP rank \
  data_pos data_none epoch_pos epoch_w epoch_none
for rule in "${rules[@]}"; do
  "${CLTCI_VENV}/bin/python" - "${out}/pt_${rule}/summary.json" "${rule}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); e = s["probe"]["encoder"]; p = s["positives"]
d = p.get("data", {}); l = p.get("last_epoch", {})
print(f'{sys.argv[2]:<9} {s["final_loss"]:10.4f} {s["collapse_loss"]:8.4f} {e["top1"]:7.3f} '
      f'{e["map"]:7.3f} {e["effective_rank"]:6.1f} | {d.get("positives_per_image", 0):9.2f} '
      f'{d.get("share_without", 0):9.3f} | {l.get("positives_per_anchor", 0):9.2f} '
      f'{l.get("weight_per_anchor", 0):9.2f} {l.get("share_without", 0):9.3f}')
PY
done
echo
echo "Positive-rule ablation finished in $(( $(date +%s) - start )) s ($(nproc) cores). Under ${out}."
