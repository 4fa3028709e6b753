#include "cltci/common/logging.h"

#include "cltci/common/error.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <utility>

namespace cltci::common {

void init_logging(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  // from_str maps anything unknown to "off"; only the word "off" itself may mean off.
  if (parsed == spdlog::level::off && level != "off") {
    std::string known;
    for (const char* name : kLogLevels) known += std::string(known.empty() ? "" : ", ") + name;
    throw InputError("--log-level: unknown level '" + level + "' (one of " + known + ")");
  }
  auto logger = std::make_shared<spdlog::logger>(
      "cltci", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_pattern("%^[%H:%M:%S] %l%$ %v");
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void add_log_file(const std::filesystem::path& path) {
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string(), false);
  sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] %l %v");
  auto logger = spdlog::default_logger();
  // One run directory at a time: a process that opens several runs (tests, sweeps from one
  // program) logs into the newest, instead of piling up sinks of finished runs.
  auto& sinks = logger->sinks();
  sinks.erase(std::remove_if(sinks.begin(), sinks.end(),
                             [](const spdlog::sink_ptr& existing) {
                               return std::dynamic_pointer_cast<spdlog::sinks::basic_file_sink_mt>(
                                          existing) != nullptr;
                             }),
              sinks.end());
  sinks.push_back(std::move(sink));
  logger->flush_on(spdlog::level::info);
}

}  // namespace cltci::common
