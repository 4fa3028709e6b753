// Logging setup: spdlog to the console, plus a log file in the run directory once there is one.
// Messages carry a component tag, e.g. spdlog::info("[data] {} images", n).
#pragma once

#include <filesystem>
#include <string>

namespace cltci::common {

/// Log levels accepted by --log-level, in spdlog's spelling.
inline constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn", "error", "off"};

/// Installs the console logger (stderr, so stdout stays for tables and --dump-config) at `level`.
/// Throws InputError for an unknown level.
void init_logging(const std::string& level);

/// Logs to `path` (appended, so a resumed run keeps its history) besides the console; replaces
/// the log file of a run opened earlier in the process.
void add_log_file(const std::filesystem::path& path);

}  // namespace cltci::common
