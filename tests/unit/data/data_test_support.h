// Helpers shared by the data layer's unit tests.
#pragma once

#include "cltci/common/error.h"

#include <functional>
#include <string>
#include <vector>

namespace cltci::testing {

/// The lines of the common::InputError that `action` throws; "(no InputError)" when it throws
/// none, so that a missing error fails the comparison with a readable message.
inline std::vector<std::string> problems_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const common::InputError& e) {
    return e.problems();
  }
  return {"(no InputError)"};
}

}  // namespace cltci::testing
