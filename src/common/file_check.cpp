#include "cltci/common/file_check.h"

#include <system_error>

namespace cltci::common {
namespace fs = std::filesystem;

std::string not_a_regular_file(const fs::path& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error == std::errc::too_many_symbolic_link_levels) {
    return "cannot be resolved (symlink loop?)";
  }
  if (status.type() == fs::file_type::not_found || error == std::errc::no_such_file_or_directory ||
      error == std::errc::not_a_directory) {
    return "does not exist";
  }
  if (error) return "cannot be accessed (" + error.message() + ")";
  if (fs::is_regular_file(status)) return {};
  if (fs::is_directory(status)) return "is a directory";
  return "is not a regular file";
}

}  // namespace cltci::common
