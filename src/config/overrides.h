// `--set key.path=value` overrides, applied to the YAML tree before it is read, so that an
// override is checked exactly as the same key in the file would be.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace cltci::config {

/// One override that was applied.
struct Override {
  std::string path;  ///< key.path
  std::string text;  ///< the whole --set argument, for messages
};

/// Sets each `key.path=value` in `root` (creating the sections on the way), in order, so a later
/// override wins. A malformed one adds "--set text: ..." to `errors` and is skipped.
std::vector<Override> apply_overrides(YAML::Node& root,
                                      const std::vector<std::string>& overrides,
                                      std::vector<std::string>& errors);

}  // namespace cltci::config
