// libFuzzer target: YAML config files as `pretrain/finetune/evaluate --config` read them:
// yaml-cpp, then the toolkit's schema reader (types, ranges, choices, unknown keys with their
// suggestions, duplicate keys, file:line:col messages) and writer (config::load_config,
// config::dump_config), on the fuzz schema of fuzz_config_schema.h.
#include "cltci/common/error.h"
#include "cltci/config/config_loader.h"
#include "cltci/config/config_writer.h"
#include "fuzz_config_schema.h"
#include "fuzz_input_file.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

std::string load_and_dump(const std::filesystem::path& file) {
  cltci::fuzz::FuzzConfig config;
  cltci::config::load_config(
      file, {}, [&](cltci::config::Schema& s) { cltci::fuzz::describe(s, config); },
      [&](cltci::config::Problems& p) { cltci::fuzz::validate(config, p); });
  return cltci::config::dump_config(
      [&](cltci::config::Schema& s) { cltci::fuzz::describe(s, config); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path file = cltci::fuzz::write_fuzz_input(data, size, ".yaml");
  std::string dumped;
  try {
    dumped = load_and_dump(file);
  } catch (const cltci::common::InputError&) {
    return 0;
  }
  // A run saves the dump as its config.yaml and a resumed run reads it back and compares it byte
  // for byte: whatever the loader accepted must dump to a file that loads to the same dump.
  const auto again_file = cltci::fuzz::write_fuzz_input(
      reinterpret_cast<const std::uint8_t*>(dumped.data()), dumped.size(), ".dumped.yaml");
  std::string again;
  try {
    again = load_and_dump(again_file);
  } catch (const cltci::common::InputError& error) {
    std::fprintf(stderr, "config: its own dump does not load: %s\n--- dump:\n%s\n", error.what(),
                 dumped.c_str());
    std::abort();
  }
  if (again != dumped) {
    std::fprintf(stderr, "config: dump -> load -> dump changed\n--- first:\n%s\n--- second:\n%s\n",
                 dumped.c_str(), again.c_str());
    std::abort();
  }
  return 0;
}
