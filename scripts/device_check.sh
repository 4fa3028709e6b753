#!/usr/bin/env bash
# The GPU machine's one script (issue #12): builds the GPU-only variant of the toolkit from what
# that machine has (CUDA, CMake, ninja, Python's torch) plus the bundle of scripts/device_bundle.sh,
# runs every *_CUDA test, the training benchmark (pre-training and fine-tuning) and the data
# benchmark (the batched augmentation on the device), and writes the figures under ${OUT}.
# Where no GPU is visible it runs the CPU fallback: the same build, the variant's whole test suite
# and a short CPU benchmark, so that the script is proven before device minutes are spent.
# The build phase takes the bundle's prebuilt binaries (scripts/device_bundle.sh --binaries)
# instead of compiling when they were built from this very source tree, against this torch, for
# this GPU, and load here: minutes of device time saved. --compile always compiles; --cuda-arch
# compiles the CUDA code for the named compute capabilities without a GPU (how the prebuilt
# binaries are made on the host).
#   scripts/device_check.sh [--phase build|test|bench|all] [--bundle DIR] [--build DIR]
#                           [--steps N] [--jobs N] [--bench-args "EXTRA ARGS"] [--compile]
#                           [--cuda-arch "9.0[;8.0...]"] [--test-timeout SECONDS]
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
compile=0
cuda_arch=""
test_timeout=300
while (($#)); do
  case "$1" in
    --compile)
      compile=1
      shift
      continue
      ;;
    --cuda-arch) cuda_arch="${2-}" ;;
    --test-timeout) test_timeout="${2-}" ;;
    --phase) phase="${2-}" ;;
    --bundle) bundle="${2-}" ;;
    --build) build="${2-}" ;;
    --steps) steps="${2-}" ;;
    --jobs) jobs="${2-}" ;;
    --bench-args) extra="${2-}" ;;
    *)
      echo "device_check: unknown argument '$1'" >&2
      exit 2
      ;;
  esac
  if (($# < 2)); then
    echo "device_check: $1 needs a value" >&2
    exit 2
  fi
  shift 2
done
case "${phase}" in build | test | bench | all) ;; *)
  echo "device_check: --phase must be build, test, bench or all, not '${phase}'" >&2
  exit 2
  ;;
esac
if [[ ! "${test_timeout}" =~ ^[1-9][0-9]*$ ]]; then
  echo "device_check: --test-timeout takes whole seconds, not '${test_timeout}'" >&2
  exit 2
fi
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
gpu_cap=""
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  gpu=1
  gpu_cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d ' ')"
fi
# Torch's own libraries, and the CUDA runtime torch loads, for binaries built on another machine
# (their RUNPATH names that machine's torch); for binaries built here the same directories.
torch_lib=""
cudart_dir=""
torch_version=none
if torch_dir="$("${python}" -c 'import os, torch; print(os.path.dirname(torch.__file__))' \
  2>/dev/null)"; then
  torch_version="$("${python}" -c 'import torch; print(torch.__version__)')"
  torch_lib="${torch_dir}/lib"
  if [[ -f "${torch_lib}/libtorch_cuda.so" ]]; then
    cudart="$(ldd "${torch_lib}/libtorch_cuda.so" | awk '$1 ~ /^libcudart\.so/ && $3 ~ /^\// {print $3}')"
    [[ -n "${cudart}" ]] && cudart_dir="$(dirname "${cudart}")"
  fi
fi
ld_path="${bundle}/lib"
for dir in "${torch_lib}" "${cudart_dir}"; do [[ -n "${dir}" ]] && ld_path+=":${dir}"; done
export LD_LIBRARY_PATH="${ld_path}${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"

# Identifies the files that go into the three binaries, as both machines see them (the device's
# copy of the working tree has no .git).
source_hash() {
  (cd "${root}" && find CMakeLists.txt apps bench cmake fuzz include src tests -type f \
    -not -path '*/__pycache__/*' -not -path '*/.*' -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum | sha256sum | cut -c1-16)
}
stamp_value() { sed -n "s/^$1=//p" "$2" | head -n 1; }
prebuilt_names=(cltci_tests cltci_pretrain_bench cltci_data_bench)
prebuilt="${build}/prebuilt"

# use_prebuilt: the bundle's binaries (scripts/device_bundle.sh --binaries) into ${prebuilt} when
# they were built from this tree, against this torch, for this GPU, and load here; else says why
# not and fails.
use_prebuilt() {
  local stamp="${bundle}/bin/STAMP" here built name missing
  [[ -f "${stamp}" ]] || return 1
  built="$(stamp_value source "${stamp}")"
  here="$(source_hash)"
  if [[ "${built}" != "${here}" ]]; then
    log "prebuilt binaries are of another source tree (${built}; this one ${here}): compiling"
    return 1
  fi
  built="$(stamp_value torch "${stamp}")"
  if [[ "${built}" != "${torch_version}" ]]; then
    log "prebuilt binaries are for torch ${built}, this machine has ${torch_version}: compiling"
    return 1
  fi
  if ((gpu)); then
    built="$(stamp_value cuda_arch "${stamp}")"
    if [[ ";${built};" != *";${gpu_cap};"* ]]; then
      log "prebuilt binaries are for compute capability ${built}, this GPU is ${gpu_cap}: compiling"
      return 1
    fi
  fi
  for name in "${prebuilt_names[@]}"; do
    missing="$(ldd "${bundle}/bin/${name}" 2>&1 | awk '/not found/ {print $1}' | tr '\n' ' ')"
    if [[ -n "${missing}" ]]; then
      log "prebuilt ${name} lacks ${missing}here: compiling"
      return 1
    fi
  done
  if ! err="$("${bundle}/bin/cltci_tests" --gtest_list_tests 2>&1 >/dev/null)"; then
    log "prebuilt cltci_tests does not start ($(tail -n 1 <<<"${err}")): compiling"
    return 1
  fi
  # (set -e does not reach into a function called as a condition)
  rm -rf "${prebuilt}" && mkdir -p "${prebuilt}" || return 1
  for name in "${prebuilt_names[@]}"; do cp "${bundle}/bin/${name}" "${prebuilt}/" || return 1; done
  cp "${stamp}" "${prebuilt}/STAMP" || return 1
  log "using the bundle's prebuilt binaries ($(stamp_value built "${stamp}"))"
}

if [[ "${phase}" == build || "${phase}" == all ]]; then
  {
    echo "host: $(uname -srm), $(nproc) cores, glibc $(ldd --version | head -n 1 | awk '{print $NF}')"
    echo "torch: $("${python}" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')"
    echo "cmake: $(cmake --version | head -n 1); nvcc: $(nvcc --version 2>/dev/null | tail -n 1 || echo none)"
    if ((gpu)); then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; fi
    echo "bundle: $(head -n 2 "${bundle}/README" | tr '\n' ' ')"
  } >"${out}/environment.txt" 2>&1
  cat "${out}/environment.txt" >&2
  if ((compile)) || ! use_prebuilt; then
    rm -rf "${prebuilt}"
    torch_prefix="${CLTCI_TORCH_PREFIX:-}"
    if [[ -z "${torch_prefix}" ]] &&
      ! torch_prefix="$("${python}" -c 'import torch; print(torch.utils.cmake_prefix_path)')"; then
      echo "device_check: ${python} has no torch; set PYTHON or CLTCI_TORCH_PREFIX" >&2
      exit 2
    fi
    launcher=()
    if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
    if ((gpu)) && [[ -z "${cuda_arch}" ]]; then
      # Only this GPU's architecture: half the CUDA compile time of the default 80;90.
      cuda_arch="${gpu_cap}"
      [[ "${cuda_arch}" =~ ^[0-9]+\.[0-9]+$ ]] || cuda_arch=""
      cuda_flags=(-DCLTCI_CUDA=ON)
    else
      cuda_flags=(-DCLTCI_CUDA=AUTO)
    fi
    if [[ -n "${cuda_arch}" ]]; then
      if [[ ! "${cuda_arch}" =~ ^[0-9]+\.[0-9]+(\;[0-9]+\.[0-9]+)*$ ]]; then
        echo "device_check: --cuda-arch takes compute capabilities like 9.0 or '8.0;9.0'," \
          "not '${cuda_arch}'" >&2
        exit 2
      fi
      # The toolkit may be installed without being on PATH.
      if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
        export PATH="/usr/local/cuda/bin:${PATH}"
      fi
      cuda_flags=(-DCLTCI_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=${cuda_arch//./}"
        "-DTORCH_CUDA_ARCH_LIST=${cuda_arch}")
    fi
    log "configuring ${build} (GPU-only variant: no image codecs, no DICOM)"
    cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      "-DCMAKE_PREFIX_PATH=${bundle};${torch_prefix}" -DCLTCI_IMAGE_CODECS=OFF -DCLTCI_DICOM=OFF \
      -DCLTCI_PYTHON= "${cuda_flags[@]}" "-DGIF_INCLUDE_DIR=${bundle}/include" \
      "-DGIF_LIBRARY=${bundle}/lib/libgif.so.7" "${launcher[@]}" >"${out}/build.log" 2>&1 || {
      tail -n 30 "${out}/build.log" >&2
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
    cmake --build "${build}" -j "${jobs}" --target "${prebuilt_names[@]}" \
      >>"${out}/build.log" 2>&1 || {
      tail -n 40 "${out}/build.log" >&2
      exit 1
    }
    log "built in $((SECONDS - start)) s"
    # What device_bundle.sh --binaries carries with the binaries, and use_prebuilt checks.
    {
      echo "source=$(source_hash)"
      echo "torch=${torch_version}"
      echo "cuda_arch=${cuda_arch}"
      echo "built=$(hostname), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git -C "${root}" describe --always \
        --dirty 2>/dev/null || echo "no git")"
    } >"${build}/STAMP"
  fi
fi

if [[ -f "${prebuilt}/STAMP" ]]; then
  tests="${prebuilt}/cltci_tests"
  bench="${prebuilt}/cltci_pretrain_bench"
  data_bench="${prebuilt}/cltci_data_bench"
else
  tests="${build}/tests/cltci_tests"
  bench="${build}/bench/cltci_pretrain_bench"
  data_bench="${build}/bench/cltci_data_bench"
fi
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
  # The configs some tests read come from this tree, wherever the binary was built. A test that
  # hangs (a collective, a driver call) is killed, so that the benchmark still gets its minutes.
  CLTCI_SOURCE_DIR="${root}" timeout --signal=KILL "${test_timeout}" "${tests}" \
    --gtest_filter="${filter}" --gtest_brief=0 >"${out}/tests.txt" 2>&1
  rc=$?
  set -e
  tail -n 15 "${out}/tests.txt" >&2
  if ((rc == 137)); then
    log "tests killed after ${test_timeout} s, in $(grep '^\[ RUN      \]' "${out}/tests.txt" |
      tail -n 1 | cut -c 14-)"
    status=1
  elif ((rc != 0)); then
    log "tests failed (exit ${rc})"
    status=1
  fi
  if ((gpu)) && grep -q "^\[  SKIPPED \]" "${out}/tests.txt"; then
    log "a *_CUDA test skipped although a GPU is present (does torch see it?)"
    status=1
  fi
fi

# run_bench NAME BINARY ARGS...: the figures to ${out}/NAME.txt (and on stderr), its messages to
# benchmarks.stderr (the device tool brings back at most 8 files); a failure marks the run failed
# and the next benchmark still runs.
run_bench() {
  local name="$1" binary="$2" rc=0
  shift 2
  log "${name}: $*"
  echo "== ${name}: $*" >>"${out}/benchmarks.stderr"
  "${binary}" "$@" >"${out}/${name}.txt" 2>>"${out}/benchmarks.stderr" || rc=$?
  cat "${out}/${name}.txt" >&2
  if ((rc != 0)); then
    tail -n 5 "${out}/benchmarks.stderr" >&2
    log "${name} failed (exit ${rc})"
    status=1
  fi
}

if [[ "${phase}" == bench || "${phase}" == all ]]; then
  : >"${out}/benchmarks.stderr"
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
