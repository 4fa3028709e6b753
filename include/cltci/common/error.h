// Error types shared by every layer, and the exit code each one maps to.
//
// The toolkit's contract with shells and sweep scripts: 0 success, 2 bad usage / config / input
// (one clear line per problem naming the file, line or key), 1 runtime failure, 130 interrupted
// after a clean save. Library code throws; only apps turn exceptions into exit codes.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace cltci::common {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitRuntimeFailure = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInterrupted = 130;

/// A failure while running (I/O that should have worked, numerical blow-up, ...): exit code 1.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The user's input is wrong (a file, a config key, a flag): exit code 2. Holds one line per
/// problem, so that all problems of a config file are reported in one go.
class InputError : public Error {
 public:
  explicit InputError(std::string problem);
  explicit InputError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

/// Throws InputError(problem) unless `ok`: the one-line precondition checks of option structs.
inline void require_input(bool ok, const std::string& problem) {
  if (!ok) throw InputError(problem);
}

/// Training stopped on SIGINT/SIGTERM after its state was saved: exit code 130.
class Interrupted : public Error {
 public:
  using Error::Error;
};

/// Exit code for an exception escaping an app's main.
int exit_code_for(const std::exception& error) noexcept;

}  // namespace cltci::common
