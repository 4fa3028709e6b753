// The toolkit writes its JSON (summary.json, splits.json) by hand: there is no JSON library among
// its dependencies, and yaml-cpp reads JSON back. This is the one string quoter they share.
#pragma once

#include <string>
#include <string_view>

namespace cltci::common {

/// `text` as a JSON string literal, quotes included (", \ and control characters escaped).
/// Well-formed UTF-8 passes through; any other byte b (a Latin-1 path, say) is written as
/// \u00bb, so the output is always valid JSON.
std::string json_string(std::string_view text);

}  // namespace cltci::common
