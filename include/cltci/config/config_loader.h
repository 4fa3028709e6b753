// Reads a YAML config file plus `--set key.path=value` overrides into a typed struct through its
// describe() function. The public entry of the config layer's machinery: the writer and the
// typo suggestions it reports with come with it.
//
// Every problem is reported, all at once, as one line `file:line:col: key.path: message`
// (overrides report `--set key=value: key.path: message`), thrown as common::InputError.
#pragma once

#include "cltci/config/config_writer.h"
#include "cltci/config/schema.h"
#include "cltci/config/suggestions.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace cltci::config {

using DescribeFn = std::function<void(Schema&)>;
using ValidateFn = std::function<void(Problems&)>;

/// Reads `file` (empty path: defaults only) and `overrides` into the struct that `describe`
/// visits, then runs `validate`. A file must hold a mapping with at least one key, each key
/// once. Throws common::InputError listing every problem.
void load_config(const std::filesystem::path& file,
                 const std::vector<std::string>& overrides,
                 const DescribeFn& describe,
                 const ValidateFn& validate);

}  // namespace cltci::config
