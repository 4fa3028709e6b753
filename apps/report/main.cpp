// `report`: the paper's table from several evaluation runs (rows = initialisation, columns = M).
#include "cli_common.h"
#include "cltci/common/atomic_file.h"
#include "cltci/run/report.h"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"Print the paper's Dice table from evaluate runs", "report"};
  cltci::apps::CommonFlags flags;
  std::vector<std::filesystem::path> evaluations;
  std::filesystem::path output;
  app.add_option("evaluations", evaluations, "evaluate run directories (or their summary.json)")
      ->required();
  app.add_option("--output", output, "also write the table to this file");
  app.add_option("--log-level", flags.log_level, "trace | debug | info | warn | error | off");
  cltci::apps::add_version_flag(app);
  return cltci::apps::run_main(app, argc, argv, flags, [&] {
    const std::string table = cltci::run::report_table(evaluations);
    if (!output.empty()) cltci::common::write_file_atomic(output, std::string_view(table));
    std::cout << "Dice (%) pooled over each test fold, mean(std) over folds\n" << table;
    return 0;
  });
}
