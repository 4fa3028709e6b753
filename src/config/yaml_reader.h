// Reading a config file into a YAML tree that can be trusted: one document, a mapping of
// sections, each key given once, text rather than binary data. Every refusal is one line naming
// the file (and line and column where there is one), thrown as common::InputError.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

namespace cltci::config {

/// The config file's root mapping. Refuses a missing file, binary data, a syntax error, a second
/// document, an empty config (nothing, only comments, or `{}`), a top level that is not a
/// mapping and duplicate keys; `what` names the kind of file in messages ("config", "sweep").
YAML::Node read_yaml_mapping(const std::filesystem::path& file, const std::string& what);

/// Every key given twice in one mapping, block or flow (yaml-cpp keeps both and lookups would
/// silently take the first), as "file:line:col: key.path: duplicate key 'k' in parent (first at
/// line N); give each key once".
void find_duplicate_keys(const YAML::Node& node,
                         const std::string& path,
                         const std::string& file,
                         std::vector<std::string>& errors);

}  // namespace cltci::config
