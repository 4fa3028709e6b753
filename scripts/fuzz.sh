#!/usr/bin/env bash
# Fuzzes the readers of untrusted files with libFuzzer (fuzz/, CONTRIBUTING.md "Fuzzing and
# sanitizers"):
#   1. configures and builds ${CLTCI_FUZZ_BUILD_DIR} (default build-fuzz/) with clang, ASan and
#      UBSan: only the parser sources and the fuzzers, not the whole library;
#   2. writes the seed corpus (valid files made by the toolkit's writers, each read back);
#   3. runs every fuzzer for ${CLTCI_FUZZ_SECONDS:-30} s, at most ${CLTCI_FUZZ_PARALLEL:-2} at once,
#      seeded from the corpus, the previous runs' corpus and the committed regression inputs;
#   4. replays tests/fuzz/regressions/<target>/* one by one.
# Exits non-zero when anything crashed, leaked, hung (or outlived its time by 90 s) or ran out of
# memory; the inputs that did are copied into tests/fuzz/regressions/<target>/ to be committed
# with the fix.
#
# usage: scripts/fuzz.sh [--ci] [TARGET...]    (targets: the fuzz/*_fuzzer.cpp names)
#   --ci  what .ci/run calls: each fuzzer's log goes to a file and is printed only when it
#         failed, followed by a hex dump of each (small) failing input, since CI throws the
#         checkout away.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${here}/env.sh"

ci=0
targets=()
for arg in "$@"; do
  case "${arg}" in
    --ci) ci=1 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '${arg}' (see --help)" >&2; exit 2 ;;
    *) targets+=("${arg}") ;;
  esac
done
all_targets=(safetensors json_reader manifest config jsrt gif dicom_tags)
if ((${#targets[@]} == 0)); then targets=("${all_targets[@]}"); fi
for target in "${targets[@]}"; do
  if [[ ! -f "${root}/fuzz/${target}_fuzzer.cpp" ]]; then
    echo "fuzz.sh: unknown target '${target}' (known: ${all_targets[*]})" >&2
    exit 2
  fi
done

seconds="${CLTCI_FUZZ_SECONDS:-30}"
parallel="${CLTCI_FUZZ_PARALLEL:-2}"
build_dir="${CLTCI_FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${CLTCI_JOBS:-$(nproc)}"
say() { echo "[fuzz] $*" >&2; }

for tool in clang clang++; do
  command -v "${tool}" >/dev/null || { say "${tool} not found (scripts/setup.sh installs it)"; exit 1; }
done
prefix="$("${here}/setup.sh" --print-prefix --no-python-checks | tail -n 1)"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

cd "${root}"
start=$(date +%s)
if [[ ! -f "${build_dir}/build.ninja" ]]; then
  say "configuring ${build_dir} (clang, libFuzzer + ASan + UBSan)"
  # CUDA and the PCH are off: no fuzzed code runs on the GPU, and the few torch sources here do
  # not repay a precompiled header.
  CC=clang CXX=clang++ cmake -S . -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_PREFIX_PATH="${prefix}" -DCLTCI_BUILD_FUZZERS=ON -DCLTCI_BUILD_TESTS=OFF \
    -DCLTCI_CUDA=OFF -DCLTCI_ENABLE_PCH=OFF -DCLTCI_PYTHON= "${launcher[@]}" >&2
fi
build_targets=(cltci_fuzz_seed_corpus)
for target in "${targets[@]}"; do build_targets+=("${target}_fuzzer"); done
say "building ${build_targets[*]} with ${jobs} jobs"
cmake --build "${build_dir}" -j "${jobs}" --target "${build_targets[@]}" >&2
say "build took $(($(date +%s) - start)) s"

bin="${build_dir}/fuzz"
work="${bin}/work"
seeds="${work}/seeds"
mkdir -p "${work}"
"${bin}/cltci_fuzz_seed_corpus" "${seeds}" configs >&2

# JSRT films are exactly 8 MiB; everything else the toolkit reads is fuzzed well below 64 KiB.
max_len_of() { if [[ "$1" == jsrt ]]; then echo 8388620; else echo 65536; fi; }
# The scratch input files go to a private directory (tmpfs when there is one: less disk I/O).
scratch="$(mktemp -d "${CLTCI_FUZZ_TMPDIR:-/dev/shm}/cltci-fuzz.XXXXXX" 2>/dev/null ||
           mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
common_flags=(-rss_limit_mb=2048 -timeout=20 -print_final_stats=1)
# A wall-clock bound on each fuzzer process besides libFuzzer's own: a fuzzer that stops
# answering (stuck reporting an out-of-memory, say) fails the stage instead of holding CI.
guard() { timeout --kill-after=15 "$1" "${@:2}"; }

fuzz_one() {  # fuzz_one TARGET: the timed run; its exit code is the fuzzer's
  local target="$1"
  local corpus="${work}/corpus/${target}" artifacts="${work}/artifacts/${target}/"
  local regressions="${root}/tests/fuzz/regressions/${target}"
  mkdir -p "${corpus}" "${artifacts}" "${regressions}"
  # New coverage is kept in the first directory (build-fuzz/, not committed); the others seed.
  TMPDIR="${scratch}" guard "$((seconds + 90))" "${bin}/${target}_fuzzer" "${common_flags[@]}" \
    -max_total_time="${seconds}" -max_len="$(max_len_of "${target}")" \
    -artifact_prefix="${artifacts}" "${corpus}" "${seeds}/${target}" "${regressions}" \
    >"${work}/${target}.log" 2>&1
}

replay_one() {  # replay_one TARGET: every committed regression input, once each
  local target="$1"
  local inputs=()
  local file
  for file in "${root}/tests/fuzz/regressions/${target}"/*; do
    [[ -f "${file}" && "$(basename "${file}")" != README* ]] && inputs+=("${file}")
  done
  ((${#inputs[@]})) || return 0
  TMPDIR="${scratch}" guard 300 "${bin}/${target}_fuzzer" "${common_flags[@]}" \
    -max_len="$(max_len_of "${target}")" "${inputs[@]}" >>"${work}/${target}.log" 2>&1
}

show_failure() {  # show_failure TARGET
  local target="$1" file
  echo "----- ${target}: fuzzer log (${work}/${target}.log), last 60 lines" >&2
  tail -n 60 "${work}/${target}.log" >&2
  for file in "${work}/artifacts/${target}"/*; do
    [[ -f "${file}" ]] || continue
    if ((ci)) && (($(stat -c %s "${file}") <= 4096)); then
      echo "----- ${target}: $(basename "${file}") as hex (xxd -r -p to restore)" >&2
      od -An -v -tx1 "${file}" | tr -d ' \n' | fold -w 96 >&2
      echo >&2
    fi
  done
}

say "fuzzing ${targets[*]} for ${seconds} s each, ${parallel} at once"
rm -rf "${work}/artifacts" "${work}"/*.rc
failed=()
running=0
for target in "${targets[@]}"; do
  if ((running >= parallel)); then
    wait -n || true
    running=$((running - 1))
  fi
  # Each run leaves its exit code in a file: `wait -n` above may already have collected it.
  { code=0; fuzz_one "${target}" || code=$?; echo "${code}" >"${work}/${target}.rc"; } &
  running=$((running + 1))
done
wait
for target in "${targets[@]}"; do
  code="$(cat "${work}/${target}.rc")"
  # The replay runs even after a failed timed run: it tells a known regression from a new crash.
  replay_one "${target}" || code=$?
  if ((code != 0)); then
    failed+=("${target}")
  else
    runs="$(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "${work}/${target}.log" |
            grep -o '[0-9]*$' || echo '?')"
    say "${target}: ok (${runs} inputs run, corpus of $(ls "${work}/corpus/${target}" | wc -l))"
  fi
done

new_inputs=()
for target in "${targets[@]}"; do
  for file in "${work}/artifacts/${target}"/*; do
    [[ -f "${file}" ]] || continue
    destination="${root}/tests/fuzz/regressions/${target}/$(basename "${file}")"
    if [[ ! -f "${destination}" ]]; then
      cp "${file}" "${destination}"
      new_inputs+=("${destination#"${root}/"}")
    fi
  done
done
for target in "${failed[@]}"; do show_failure "${target}"; done
if ((${#new_inputs[@]})); then
  say "new failing inputs, copied for regression: ${new_inputs[*]}"
  say "fix the bug, check that scripts/fuzz.sh passes, then commit them: git add tests/fuzz/regressions"
fi
say "finished in $(($(date +%s) - start)) s"
if ((${#failed[@]})); then
  say "FAILED: ${failed[*]}"
  exit 1
fi
say "all ${#targets[@]} fuzzers clean"
