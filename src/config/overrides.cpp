#include "config/overrides.h"

#include <sstream>

namespace cltci::config {

std::vector<Override> apply_overrides(YAML::Node& root,
                                      const std::vector<std::string>& overrides,
                                      std::vector<std::string>& errors) {
  std::vector<Override> applied;
  for (const std::string& text : overrides) {
    const auto equals = text.find('=');
    const std::string path = text.substr(0, equals);
    const bool bad_path = path.empty() || path.front() == '.' || path.back() == '.' ||
                          path.find("..") != std::string::npos ||
                          path.find_first_of(" \t") != std::string::npos;
    if (equals == std::string::npos || bad_path) {
      errors.push_back("--set " + text + ": expected key.path=value (e.g. optim.lr=0.05)");
      continue;
    }
    YAML::Node value;
    try {
      value = YAML::Load(text.substr(equals + 1));
    } catch (const YAML::Exception& error) {
      errors.push_back("--set " + text + ": " + path + ": cannot parse value: " + error.msg);
      continue;
    }
    // Walk (and create) the mappings on the way; a scalar in the way is an error.
    std::vector<YAML::Node> chain{root};
    std::stringstream parts(path);
    std::string part;
    std::vector<std::string> keys;
    while (std::getline(parts, part, '.')) keys.push_back(part);
    bool ok = true;
    for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
      YAML::Node next = chain.back()[keys[i]];
      if (next && !next.IsNull() && !next.IsMap()) {
        errors.push_back("--set " + text + ": " + path + ": '" + keys[i] + "' is not a section");
        ok = false;
        break;
      }
      if (!next || next.IsNull()) {
        chain.back()[keys[i]] = YAML::Node(YAML::NodeType::Map);
        next = chain.back()[keys[i]];
      }
      chain.push_back(next);
    }
    if (!ok) continue;
    chain.back()[keys.back()] = value;
    applied.push_back({path, text});
  }
  return applied;
}

}  // namespace cltci::config
