#include "cltci/common/error.h"

#include <utility>

namespace cltci::common {
namespace {
std::string join_lines(const std::vector<std::string>& lines) {
  std::string joined;
  for (const auto& line : lines) {
    if (!joined.empty()) joined += '\n';
    joined += line;
  }
  return joined;
}
}  // namespace

InputError::InputError(std::string problem) : Error(problem), problems_{std::move(problem)} {}

InputError::InputError(std::vector<std::string> problems)
    : Error(join_lines(problems)), problems_(std::move(problems)) {}

int exit_code_for(const std::exception& error) noexcept {
  if (dynamic_cast<const InputError*>(&error) != nullptr) return kExitBadInput;
  if (dynamic_cast<const Interrupted*>(&error) != nullptr) return kExitInterrupted;
  return kExitRuntimeFailure;
}

}  // namespace cltci::common
