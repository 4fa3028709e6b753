#!/usr/bin/env bash
# The GPU machine's one script (issue #12): builds the GPU-only variant of the toolkit from what
# that machine has (CUDA, CMake, ninja, Python's torch) plus the bundle of scripts/device_bundle.sh,
# runs every *_CUDA test, the training benchmark (pre-training and fine-tuning) and the data
# benchmark (the batched augmentation on the device), and writes the figures under ${OUT}.
# Where no GPU is visible it runs the CPU fallback: the same build, the variant's whole test suite
# and a short CPU benchmark, so that the script is proven before device minutes are spent.
#   scripts/device_check.sh [--phase build|test|bench|all] [--bundle DIR] [--build DIR]
#                           [--steps N] [--jobs N] [--bench-args "EXTRA ARGS"]
# Environment: OUT (default ./device-output), CLTCI_TORCH_PREFIX (default: Python torch's
# cmake_prefix_path), PYTHON (default python3).
# Exit codes: 0 all ran and passed, 1 a test failed or was skipped on a GPU, 2 bad setup.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
phase=all
bundle="${root}/.device/bundle"
build="${root}/.device/build"
steps=""
jobs="$(nproc)"
extra=""
while (($#)); do
  case "$1" in
    --phase) phase="$2" ;;
    --bundle) bundle="$2" ;;
    --build) build="$2" ;;
    --steps) steps="$2" ;;
    --jobs) jobs="$2" ;;
    --bench-args) extra="$2" ;;
    *)
      echo "device_check: unknown argument '$1'" >&2
      exit 2
      ;;
  esac
  shift 2
done
case "${phase}" in build | test | bench | all) ;; *)
  echo "device_check: --phase must be build, test, bench or all, not '${phase}'" >&2
  exit 2
  ;;
esac
out="${OUT:-${root}/device-output}"
mkdir -p "${out}"
python="${PYTHON:-python3}"
log() { echo "[device_check $(date -u +%H:%M:%S)] $*" | tee -a "${out}/device_check.log" >&2; }

if [[ ! -f "${bundle}/lib/cmake/OpenCV/OpenCVConfig.cmake" ]]; then
  echo "device_check: no bundle at ${bundle}; write it with scripts/device_bundle.sh on the" \
    "Debian host and carry it (the device tool's carry: .device/bundle)" >&2
  exit 2
fi
gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then gpu=1; fi
export LD_LIBRARY_PATH="${bundle}/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"

if [[ "${phase}" == build || "${phase}" == all ]]; then
  torch_prefix="${CLTCI_TORCH_PREFIX:-}"
  if [[ -z "${torch_prefix}" ]] &&
    ! torch_prefix="$("${python}" -c 'import torch; print(torch.utils.cmake_prefix_path)')"; then
    echo "device_check: ${python} has no torch; set PYTHON or CLTCI_TORCH_PREFIX" >&2
    exit 2
  fi
  {
    echo "host: $(uname -srm), $(nproc) cores, glibc $(ldd --version | head -n 1 | awk '{print $NF}')"
    echo "torch: $("${python}" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')"
    echo "cmake: $(cmake --version | head -n 1); nvcc: $(nvcc --version 2>/dev/null | tail -n 1 || echo none)"
    if ((gpu)); then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; fi
    echo "bundle: $(head -n 2 "${bundle}/README" | tr '\n' ' ')"
  } >"${out}/environment.txt" 2>&1
  cat "${out}/environment.txt" >&2
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cuda_flags=(-DCLTCI_CUDA=AUTO)
  if ((gpu)); then
    # The toolkit may be installed without being on PATH.
    if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
      export PATH="/usr/local/cuda/bin:${PATH}"
    fi
    # Only this GPU's architecture: half the CUDA compile time of the default 80;90.
    cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d ' ')"
    cuda_flags=(-DCLTCI_CUDA=ON)
    if [[ "${cap}" =~ ^[0-9]+\.[0-9]+$ ]]; then
      cuda_flags+=("-DCMAKE_CUDA_ARCHITECTURES=${cap/./}" "-DTORCH_CUDA_ARCH_LIST=${cap}")
    fi
  fi
  log "configuring ${build} (GPU-only variant: no image codecs, no DICOM)"
  cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_PREFIX_PATH=${bundle};${torch_prefix}" -DCLTCI_IMAGE_CODECS=OFF -DCLTCI_DICOM=OFF \
    -DCLTCI_PYTHON= "${cuda_flags[@]}" "-DGIF_INCLUDE_DIR=${bundle}/include" \
    "-DGIF_LIBRARY=${bundle}/lib/libgif.so.7" "${launcher[@]}" >"${out}/configure.log" 2>&1 || {
    tail -n 30 "${out}/configure.log" >&2
    exit 2
  }
  # What was found must be the bundle's, not a stray system copy.
  for dir in OpenCV_DIR yaml-cpp_DIR spdlog_DIR fmt_DIR CLI11_DIR; do
    found="$(grep -E "^${dir}:" "${build}/CMakeCache.txt" | cut -d= -f2-)"
    if [[ "${found}" != "${bundle}"/* ]]; then
      echo "device_check: ${dir} is '${found}', not inside the bundle ${bundle}" >&2
      exit 2
    fi
  done
  log "building cltci_tests, cltci_pretrain_bench and cltci_data_bench with ${jobs} jobs"
  start=${SECONDS}
  cmake --build "${build}" -j "${jobs}" --target cltci_tests cltci_pretrain_bench cltci_data_bench \
    >"${out}/build.log" 2>&1 || {
    tail -n 40 "${out}/build.log" >&2
    exit 1
  }
  log "built in $((SECONDS - start)) s"
fi

tests="${build}/tests/cltci_tests"
bench="${build}/bench/cltci_pretrain_bench"
data_bench="${build}/bench/cltci_data_bench"
for binary in "${tests}" "${bench}" "${data_bench}"; do
  if [[ "${phase}" != build && ! -x "${binary}" ]]; then
    echo "device_check: ${binary} is not built (run --phase build first)" >&2
    exit 2
  fi
done
status=0

if [[ "${phase}" == test || "${phase}" == all ]]; then
  if ((gpu)); then
    # Parameterised tests carry their case after the name (Suite.Name_CUDA/case).
    filter='*_CUDA:*_CUDA/*'
  else
    # CPU fallback: the variant's whole suite (under a minute on 2 cores): the GPU data path,
    # loss scaling, clipping and the sync check on the CPU, the *_CUDA tests listed and skipped,
    # and the tests that need image codecs skipped (CLTCI_REQUIRE_IMAGE_CODECS).
    filter='*'
  fi
  log "tests: ${filter}"
  set +e
  "${tests}" --gtest_filter="${filter}" --gtest_brief=0 >"${out}/tests.txt" 2>&1
  rc=$?
  set -e
  tail -n 15 "${out}/tests.txt" >&2
  if ((rc != 0)); then
    log "tests failed (exit ${rc})"
    status=1
  fi
  if ((gpu)) && grep -q "^\[  SKIPPED \]" "${out}/tests.txt"; then
    log "a *_CUDA test skipped although a GPU is present (does torch see it?)"
    status=1
  fi
fi

# run_bench NAME BINARY ARGS...: the figures to ${out}/NAME.txt (and on stderr), its messages to
# NAME.stderr; a failure marks the run failed and the next benchmark still runs.
run_bench() {
  local name="$1" binary="$2" rc=0
  shift 2
  log "${name}: $*"
  "${binary}" "$@" >"${out}/${name}.txt" 2>"${out}/${name}.stderr" || rc=$?
  cat "${out}/${name}.txt" >&2
  if ((rc != 0)); then
    tail -n 5 "${out}/${name}.stderr" >&2
    log "${name} failed (exit ${rc})"
    status=1
  fi
}

if [[ "${phase}" == bench || "${phase}" == all ]]; then
  # The benchmark's list flags take comma-separated values (--arch unet,resnet50).
  # shellcheck disable=SC2054
  if ((gpu)); then
    # At least 2 s per measurement: NVML's busy counter covers the last 1/6 s to 1 s.
    args=(--device cuda --threads 8 --workers 8 --steps "${steps:-30}" --warmup 5 --min-seconds 2
      --arch unet,resnet50 --methods cltci_moco,cltci_simclr,finetune --precision fp32,bf16
      --format nchw,nhwc --augment-placement loader,device)
  else
    args=(--device cpu --threads "$(nproc)" --workers 1 --steps "${steps:-1}" --warmup 1
      --size 128 --arch unet --methods cltci_moco,finetune --precision fp32 --format nchw
      --augment-placement loader,device)
  fi
  # e.g. --bench-args "--batch 128 --arch unet --methods cltci_moco" (later flags win).
  read -r -a extra_args <<<"${extra}"
  args+=("${extra_args[@]}")
  run_bench bench "${bench}" "${args[@]}"
  # The batched augmentation alone, both views one call each and sharing one conversion: on a
  # GPU it says whether the device placement could ever bound the step.
  if ((gpu)); then
    data_args=(--device cuda --images 2048 --size 256 --batch 128 --views 8192)
  else
    data_args=(--device cpu --images 128 --size 128 --batch 16 --views 256)
  fi
  run_bench data_bench "${data_bench}" "${data_args[@]}" --cache "${build}/data_bench_cache"
fi
log "done: $( ((gpu)) && echo "GPU" || echo "CPU fallback"), status ${status}; figures in ${out}"
exit "${status}"
