// Writing the effective config back out: the text `--dump-config` prints and every run saves as
// its config.yaml (which a resumed run compares byte for byte).
#pragma once

#include "cltci/config/schema.h"

#include <functional>
#include <string>

namespace cltci::config {

/// The effective config as YAML, one key per line with its doc as a trailing comment. Numbers
/// are written from their shortest exact text, so reading the dump back gives the same values.
std::string dump_config(const std::function<void(Schema&)>& describe);

}  // namespace cltci::config
