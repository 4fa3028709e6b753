// Reads a YAML config file plus `--set key.path=value` overrides into a typed struct through its
// describe() function, and writes the effective config back out.
//
// Every problem is reported, all at once, as one line `file:line:col: key.path: message`
// (overrides report `--set key=value: key.path: message`), thrown as common::InputError.
#pragma once

#include "cltci/config/schema.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace cltci::config {

using DescribeFn = std::function<void(Schema&)>;
using ValidateFn = std::function<void(Problems&)>;

/// Reads `file` (empty path: defaults only) and `overrides` into the struct that `describe`
/// visits, then runs `validate`. Throws common::InputError listing every problem.
void load_config(const std::filesystem::path& file,
                 const std::vector<std::string>& overrides,
                 const DescribeFn& describe,
                 const ValidateFn& validate);

/// The effective config as YAML, one key per line with its doc as a trailing comment.
std::string dump_config(const DescribeFn& describe);

/// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The closest candidate to `word` when it is plausibly a typo of it, else empty.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace cltci::config
