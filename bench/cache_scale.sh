#!/usr/bin/env bash
# Peak memory of `pretrain` on a data set larger than it should hold (issue #12; not a CI test):
# the paper's CL-TCI-MoCo U-Net (configs/pretrain/cltci_moco_unet.yaml) on a synthetic data set
# of N phantom images (default 100,000: 25,000 patients x 4 films, 256^2, 6.1 GiB of uint8
# planes), trained for a few steps with the cache streamed and then held in memory, side by side.
# Prints per run: the cache phase (built / reused), the seconds until the first step, img/s of
# the steps after it (the probe before training embeds 200 images), and the peak RSS of the process (VmHWM, read just before it is stopped).
#
#   bench/cache_scale.sh [--images N] [--steps S] [--dir DIR] [--residency stream,memory]
#
# The first run builds the cache (rendering the phantom at 128^2 native, resized to 256^2: about
# 10 minutes on 2 cores for 100k images); the later ones reuse it. DIR needs N x 64 KiB free.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${root}/scripts/env.sh"
bin="${root}/${CLTCI_BUILD_DIR}/apps"
images=100000
steps=6
dir="${root}/bench-output/cache-scale"
residencies="stream,memory"
while (($#)); do
  case "$1" in
    --images) images="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --residency) residencies="$2"; shift 2 ;;
    *) echo "cache_scale: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -x "${bin}/pretrain" ]] || { echo "cache_scale: build the apps first (scripts/build.sh)" >&2; exit 2; }
((images >= 64 && images % 4 == 0)) || { echo "cache_scale: --images must be a multiple of 4, >= 64" >&2; exit 2; }
mkdir -p "${dir}"
dir="$(realpath "${dir}")"
patients=$((images / 4))

echo "hardware: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores," \
  "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM"
echo "data: ${images} phantom images (${patients} patients x 4), 256^2 uint8; CL-TCI-MoCo U-Net, batch 16, 2 threads, 1 worker"
printf '%-9s %-7s %14s %10s %14s\n' residency cache "s to 1st step" "img/s" "peak RSS MiB"
IFS=',' read -r -a list <<<"${residencies}"
for residency in "${list[@]}"; do
  log="${dir}/${residency}.log"
  phase=reused
  ls "${dir}"/cache/*.cache >/dev/null 2>&1 || phase=built
  start=${SECONDS}
  "${bin}/pretrain" --config "${root}/configs/pretrain/cltci_moco_unet.yaml" --threads 2 \
    --output "${dir}/runs" --overwrite \
    --set data.source.type=phantom --set data.source.phantom_version=2 \
    --set "data.source.patients=${patients}" --set "data.source.images_per_patient=[4,4]" \
    --set "data.source.native_size=[128,128]" --set "data.cache_dir=${dir}/cache" \
    --set "data.cache_residency=${residency}" --set run.log_every=1 \
    --set optim.warmup_epochs=0 --set optim.epochs=1 --set run.checkpoint_every=1000 \
    --set run.probe_every=1000 --set run.probe_images=200 >"${log}" 2>&1 &
  pid=$!
  first="" peak=0
  # Step S of the log, or the process ending, whichever comes first.
  while kill -0 "${pid}" 2>/dev/null; do
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/${pid}/status" 2>/dev/null || echo 0)
    ((hwm > peak)) && peak=${hwm}
    if [[ -z "${first}" ]] && grep -q "step 1/" "${log}"; then first=$((SECONDS - start)); fi
    if grep -q "step ${steps}/" "${log}"; then break; fi
    sleep 1
  done
  kill "${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
  rate=$(grep -o "step ${steps}/[0-9]* loss [0-9.]* lr [0-9.e+-]* [0-9.]* img/s" "${log}" |
    awk '{print $(NF-1)}' | tail -n 1)
  if [[ -z "${rate}" ]]; then
    echo "cache_scale: the ${residency} run stopped before step ${steps}; see ${log}" >&2
    tail -n 5 "${log}" >&2
    exit 1
  fi
  printf '%-9s %-7s %14s %10s %14d\n' "${residency}" "${phase}" "${first:-?}" "${rate}" $((peak / 1024))
done
