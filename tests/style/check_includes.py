#!/usr/bin/env python3
"""ctest style.includes: every source includes what it uses, for the names the toolkit leans on.

The precompiled header (src/pch.h) makes a missing #include invisible in the normal build, and a
build with CLTCI_ENABLE_PCH=OFF costs ~40 minutes on two cores (a torch translation unit takes
~50 s without the PCH), too much for every push. This check is the cheap half: for each library
prefix (torch::, cv::, spdlog::, YAML::) and each standard-library name in RULES, a file that
uses the name must include a header that provides it, itself or through its own header
(foo.cpp may rely on cltci/.../foo.h, the include-what-you-use convention). The full PCH-off
build stays the heavy job's proof (CONTRIBUTING.md, "CI").

Usage: check_includes.py ROOT          exit 1 and one line per missing include, 0 when clean
       check_includes.py ROOT --fix    add the missing includes (then run clang-format -i on
                                       the files it names: IncludeBlocks: Regroup sorts them)
"""
import pathlib
import re
import sys

# name pattern -> headers, any one of which provides it
RULES = [
    (r"\b(torch|at|c10)::|\bTORCH_(CHECK|MODULE|ARG)\b", ("<torch/", "<ATen/", "<c10/")),
    (r"\bcv::", ("<opencv2/",)),
    (r"\bspdlog::", ("<spdlog/",)),
    (r"\bYAML::", ("<yaml-cpp/",)),
    (r"\bstd::(vector)\b", ("<vector>",)),
    (r"\bstd::(string|to_string|stoi|stol|stoll|stod|getline)\b", ("<string>",)),
    (r"\bstd::string_view\b", ("<string_view>",)),
    (r"\bstd::(map|multimap)\b", ("<map>",)),
    (r"\bstd::unordered_map\b", ("<unordered_map>",)),
    (r"\bstd::(set|multiset)\b", ("<set>",)),
    (r"\bstd::unordered_set\b", ("<unordered_set>",)),
    (r"\bstd::(optional|nullopt)\b", ("<optional>",)),
    (r"\bstd::(unique_ptr|shared_ptr|make_unique|make_shared|weak_ptr)\b", ("<memory>",)),
    (r"\bstd::function\b", ("<functional>",)),
    (r"\bstd::(ostringstream|istringstream|stringstream)\b", ("<sstream>",)),
    (r"\bstd::(ifstream|ofstream|fstream)\b", ("<fstream>",)),
    (r"\bstd::filesystem\b", ("<filesystem>",)),
    (r"\bstd::array\b", ("<array>",)),
    (r"\bstd::(pair|make_pair|move|swap|exchange|forward|declval)\b", ("<utility>",)),
    (r"\bstd::(sort|stable_sort|find|find_if|count_if|any_of|all_of|none_of|min_element|"
     r"max_element|unique|reverse|fill|copy|transform|lower_bound|upper_bound|remove_if|"
     r"shuffle|clamp|equal|nth_element|partial_sort|binary_search|max|min|minmax)\b",
     ("<algorithm>",)),
    (r"\bstd::(accumulate|iota|inner_product|partial_sum)\b", ("<numeric>",)),
    (r"\bstd::chrono\b", ("<chrono>",)),
    (r"\bstd::(thread|this_thread)\b", ("<thread>",)),
    (r"\bstd::(mutex|lock_guard|unique_lock|scoped_lock)\b", ("<mutex>",)),
    (r"\bstd::condition_variable\b", ("<condition_variable>",)),
    (r"\bstd::atomic\b", ("<atomic>",)),
    (r"\bstd::(runtime_error|logic_error|invalid_argument|out_of_range|domain_error)\b",
     ("<stdexcept>",)),
    (r"\bstd::numeric_limits\b", ("<limits>",)),
    (r"\bstd::u?int(8|16|32|64)_t\b", ("<cstdint>",)),
    (r"\bstd::(sqrt|exp|log|log2|log10|pow|floor|ceil|round|lround|isfinite|isnan|fabs|"
     r"hypot|cos|sin|atan2|tanh|erf|erfc|lgamma|nextafter)\b", ("<cmath>",)),
    (r"\bstd::(tuple|make_tuple|tie)\b", ("<tuple>",)),
    (r"\bstd::(variant|visit|holds_alternative)\b", ("<variant>",)),
    (r"\bstd::(cout|cerr|clog)\b", ("<iostream>",)),
    (r"\bstd::deque\b", ("<deque>",)),
    (r"\bstd::(mt19937|mt19937_64|uniform_int_distribution|uniform_real_distribution|"
     r"normal_distribution|random_device)\b", ("<random>",)),
    (r"\bstd::(regex|regex_match|regex_search|smatch)\b", ("<regex>",)),
    (r"\bstd::(memcpy|memset|memcmp|strlen|strcmp|strerror)\b", ("<cstring>",)),
    (r"\bstd::(printf|fprintf|snprintf|fopen|fclose|FILE)\b", ("<cstdio>",)),
    (r"\bstd::(getenv|exit|strtod|strtol|strtoull|abort)\b", ("<cstdlib>",)),
    (r"\bstd::(uncaught_exceptions|exception_ptr|current_exception|rethrow_exception)\b",
     ("<exception>",)),
    (r"\bstd::(error_code|system_error|generic_category|system_category)\b",
     ("<system_error>",)),
    (r"\bstd::(is_same_v|enable_if_t|decay_t|is_integral_v|is_floating_point_v|"
     r"underlying_type_t|is_enum_v)\b", ("<type_traits>",)),
    (r"\bstd::(back_inserter|istreambuf_iterator|ostream_iterator|next|prev|distance)\b",
     ("<iterator>",)),
    (r"\bstd::(ostream|istream)\b", ("<ostream>", "<istream>", "<iosfwd>", "<sstream>",
                                     "<fstream>", "<iostream>")),
    (r"\bstd::(setw|setprecision|fixed|put_time|quoted)\b", ("<iomanip>",)),
]
# What --fix adds for a rule whose headers are prefixes.
FIX_HEADER = {"<torch/": "<torch/torch.h>", "<opencv2/": "<opencv2/core.hpp>",
              "<spdlog/": "<spdlog/spdlog.h>", "<yaml-cpp/": "<yaml-cpp/yaml.h>"}
COMPILED = [(re.compile(pattern), headers) for pattern, headers in RULES]
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"][^>"]+[>"])', re.M)
# String literals and comments never need an include.
STRIP = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])\'', re.S)
SKIP = {"src/pch.h"}


def includes_of(path: pathlib.Path) -> list:
    return INCLUDE.findall(path.read_text(encoding="utf-8", errors="replace"))


def own_header(root: pathlib.Path, source: pathlib.Path):
    """foo.cpp's own header: include/cltci/<dir>/foo.h, or foo.h beside it."""
    rel = source.relative_to(root)
    candidates = [source.with_suffix(".h")]
    if rel.parts[0] == "src" and len(rel.parts) > 1:
        candidates.append(root / "include" / "cltci" / pathlib.Path(*rel.parts[1:]).with_suffix(".h"))
    return next((c for c in candidates if c.exists() and c != source), None)


def missing(root: pathlib.Path, source: pathlib.Path) -> list:
    code = STRIP.sub("", source.read_text(encoding="utf-8", errors="replace"))
    available = includes_of(source)
    header = own_header(root, source) if source.suffix in (".cpp", ".cu") else None
    if header is not None:
        available += includes_of(header)
    problems = []
    for pattern, headers in COMPILED:
        match = pattern.search(code)
        if match is None:
            continue
        if any(inc.startswith(h) or inc == h for inc in available for h in headers):
            continue
        line = code.count("\n", 0, match.start()) + 1
        problems.append((source, FIX_HEADER.get(headers[0], headers[0]),
                         f"{source.relative_to(root)}: uses {match.group(0)} (around line {line}) "
                        f"but includes none of {' '.join(headers)}"))
    return problems


def add_includes(source: pathlib.Path, headers: list) -> None:
    lines = source.read_text(encoding="utf-8").split("\n")
    anchor = max((i for i, l in enumerate(lines) if INCLUDE.match(l)), default=None)
    if anchor is None:
        anchor = next(i for i, l in enumerate(lines) if l.startswith("#pragma once"))
    lines[anchor + 1:anchor + 1] = [f"#include {h}" for h in sorted(set(headers))]
    source.write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    root = pathlib.Path(sys.argv[1]).resolve()
    fix = "--fix" in sys.argv[2:]
    sources = []
    for folder in ("apps", "bench", "include", "src", "tests", "fuzz"):
        for suffix in ("*.h", "*.cpp", "*.cu", "*.cuh"):
            sources += (root / folder).rglob(suffix)
    sources = sorted(s for s in sources if str(s.relative_to(root)) not in SKIP)
    problems = [p for s in sources for p in missing(root, s)]
    if fix:
        by_file = {}
        for source, header, _ in problems:
            by_file.setdefault(source, []).append(header)
        for source, headers in sorted(by_file.items()):
            add_includes(source, headers)
            print(source.relative_to(root))
        return 0
    for _, _, problem in problems:
        print(problem)
    if problems:
        print(f"check_includes: {len(problems)} missing include(s) in {len(sources)} files; "
              "add the header to the file that uses the name")
        return 1
    print(f"check_includes: {len(sources)} files include what they use")
    return 0


if __name__ == "__main__":
    sys.exit(main())
