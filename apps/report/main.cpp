// `report`: the paper's table from several evaluation runs (rows = initialisation, columns = M)
// and the paired tests of initialisations over matched (fold, seed) cells.
#include "cli_common.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/run/report.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

namespace {

/// A file the report may write: not a directory, in a directory that exists, and not an
/// existing file unless `overwrite` (an earlier table must not be lost to a typo in a path).
void check_output(const std::filesystem::path& file, const char* flag, bool overwrite) {
  if (file.empty()) return;
  if (std::filesystem::is_directory(file)) {
    throw cltci::common::InputError(std::string(flag) + ": " + file.string() +
                                    " is a directory; give a file name");
  }
  std::error_code error;
  if (!overwrite && std::filesystem::exists(std::filesystem::symlink_status(file, error))) {
    throw cltci::common::InputError(std::string(flag) + ": " + file.string() +
                                    " exists; pass --overwrite to replace it");
  }
  const auto parent = file.parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent)) {
    throw cltci::common::InputError(std::string(flag) + ": directory " + parent.string() +
                                    " does not exist");
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Print the paper's Dice table from evaluate runs, with paired tests", "report"};
  cltci::apps::CommonFlags flags;
  cltci::run::ReportOptions options;
  std::filesystem::path output, summary;
  std::vector<std::string> compare;
  app.add_option("evaluations", options.evaluations,
                 "evaluate run directories (or their summary.json)")
      ->required();
  app.add_option("--compare", compare,
                 "A:B compares initialisation A with B over matched (fold, seed) cells "
                 "(repeatable; default: every row against the first)");
  app.add_option("--output", output, "also write the table and tests to this text file");
  app.add_option("--summary", summary, "write the table and tests as JSON to this file");
  bool overwrite = false;
  app.add_flag("--overwrite", overwrite, "replace existing --output / --summary files");
  app.add_option("--log-level", flags.log_level, "trace | debug | info | warn | error | off");
  cltci::apps::add_version_flag(app);
  return cltci::apps::run_main(app, argc, argv, flags, [&] {
    for (const auto& pair : compare) {
      const auto colon = pair.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size()) {
        throw cltci::common::InputError("--compare: expected A:B, got '" + pair + "'");
      }
      options.comparisons.emplace_back(pair.substr(0, colon), pair.substr(colon + 1));
    }
    check_output(output, "--output", overwrite);
    check_output(summary, "--summary", overwrite);
    const auto report = cltci::run::make_report(options);
    const std::string text = "Dice (%) pooled over each test fold, mean(std) over folds x seeds\n" +
                             report.table +
                             (report.comparisons.empty() ? "" : "\n" + report.comparisons);
    if (!output.empty()) cltci::common::write_file_atomic(output, std::string_view(text));
    if (!summary.empty()) cltci::common::write_file_atomic(summary, std::string_view(report.json));
    std::cout << text;
    return 0;
  });
}
