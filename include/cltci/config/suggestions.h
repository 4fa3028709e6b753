// "Did you mean" for unknown keys and choices: the closest known name when the given one is
// plausibly a typo of it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cltci::config {

/// Levenshtein distance (insertions, deletions and substitutions of one character).
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The closest candidate to `word` when it is plausibly a typo of it, else empty.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace cltci::config
