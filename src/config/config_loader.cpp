#include "cltci/config/config_loader.h"

#include "cltci/common/error.h"
#include "config/overrides.h"
#include "config/schema_reader.h"
#include "config/yaml_reader.h"

#include <yaml-cpp/yaml.h>

namespace cltci::config {

void load_config(const std::filesystem::path& file,
                 const std::vector<std::string>& overrides,
                 const DescribeFn& describe,
                 const ValidateFn& validate) {
  YAML::Node root(YAML::NodeType::Map);
  if (!file.empty()) root = read_yaml_mapping(file, "config");
  std::vector<std::string> errors;
  const auto applied = apply_overrides(root, overrides, errors);
  SchemaReader reader(root, file.string(), applied);
  describe(reader);
  reader.finish();
  errors.insert(errors.end(), reader.errors().begin(), reader.errors().end());
  if (errors.empty()) {
    Problems problems;
    validate(problems);
    for (const auto& item : problems.items()) {
      errors.push_back(reader.location_of(item.key_path) + ": " + item.key_path + ": " +
                       item.message);
    }
  }
  if (!errors.empty()) throw common::InputError(errors);
}

}  // namespace cltci::config
