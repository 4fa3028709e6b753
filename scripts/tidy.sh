#!/usr/bin/env bash
# clang-tidy with the repository's .clang-tidy (warnings are errors) on the toolkit's sources.
#   scripts/tidy.sh                 the .cpp files the last commit touches (what CI runs)
#   scripts/tidy.sh --since REV     the .cpp files changed since REV (before you push)
#   scripts/tidy.sh --all           every .cpp file (the heavy job; ~15 s a file on one core)
#   scripts/tidy.sh FILE...         these files
# A header is checked through the sources that include it (HeaderFilterRegex). Sources are
# checked WITHOUT the precompiled header, so a file that does not include what it uses fails
# here too. Needs a configured build (${CLTCI_BUILD_DIR}, for compile_commands.json).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "${here}")"
source "${here}/env.sh"
cd "${root}"

tidy="$(command -v clang-tidy || true)"
if [[ -z "${tidy}" ]]; then
  echo "tidy: clang-tidy not found (apt-get install clang-tidy)" >&2
  exit 2
fi
build="${CLTCI_BUILD_DIR}"
if [[ ! -f "${build}/compile_commands.json" ]]; then
  echo "tidy: ${build}/compile_commands.json missing: configure first (scripts/build.sh)" >&2
  exit 2
fi

files=()
case "${1:-}" in
  --all) mapfile -t files < <(git ls-files 'src/*.cpp' 'apps/*.cpp') ;;
  --since)
    [[ -n "${2:-}" ]] || { echo "tidy: --since needs a revision" >&2; exit 2; }
    mapfile -t files < <(git diff --name-only --diff-filter=d "$2" -- 'src/*.cpp' 'apps/*.cpp') ;;
  "")
    if git rev-parse -q --verify HEAD~1 >/dev/null; then
      mapfile -t files < <(git diff --name-only --diff-filter=d HEAD~1 HEAD -- 'src/*.cpp' 'apps/*.cpp')
    else
      echo "tidy: no parent commit (shallow clone?): checking nothing; use --all" >&2
    fi ;;
  *) files=("$@") ;;
esac
if ((${#files[@]} == 0)); then
  echo "tidy: no C++ source to check"
  exit 0
fi

# The build's compile commands, minus gcc's precompiled header (clang cannot read a .gch, and
# without it each file must stand on its own includes).
db="${build}/tidy"
mkdir -p "${db}"
python3 - "${build}/compile_commands.json" "${db}/compile_commands.json" <<'PY'
import json, re, sys
entries = []
for entry in json.load(open(sys.argv[1])):
    entry["command"] = re.sub(r"\s-Winvalid-pch|\s-include\s+\S+cmake_pch\.hxx", "", entry["command"])
    # A unity unit stands for the sources it includes: each gets the unit's command.
    if re.search(r"/Unity/unity_\d+_cxx\.cxx$", entry["file"]):
        for source in re.findall(r'^#include "(.+)"$', open(entry["file"]).read(), re.M):
            entries.append(dict(entry, file=source,
                                command=entry["command"].replace(entry["file"], source)))
    else:
        entries.append(entry)
json.dump(entries, open(sys.argv[2], "w"))
PY

echo "tidy: ${#files[@]} file(s) with $(${tidy} --version | grep -o 'version [0-9.]*')"
status=0
printf '%s\n' "${files[@]}" |
  xargs -P "${CLTCI_JOBS:-$(nproc)}" -I{} \
    "${tidy}" -p "${db}" --quiet --extra-arg=-Wno-unknown-warning-option {} || status=$?
if ((status != 0)); then
  echo "tidy: findings above (fix them, or argue a check out of .clang-tidy)" >&2
  exit 1
fi
echo "tidy: clean"
