// `report`: the paper's table from several evaluation runs (rows = initialisation, columns = M)
// and the paired tests of initialisations over matched (fold, seed) cells; with --tables the
// tables as Markdown, CSV and LaTeX files plus the Dice-vs-M figure; with --curves the training
// curves of pretrain / finetune runs instead.
#include "cli_common.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/image_writers.h"
#include "cltci/run/report.h"
#include "cltci/run/report_curves.h"
#include "cltci/run/report_tables.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
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

/// The --tables directory: a directory (or a new one in an existing directory) holding none of
/// the files the tables may be written to, unless `overwrite`. Checked before anything is read,
/// against every possible file (HD95/ASSD included): a typo must not cost an earlier table.
void check_tables_dir(const std::filesystem::path& dir, bool overwrite) {
  if (dir.empty()) return;
  std::error_code error;
  if (std::filesystem::exists(std::filesystem::symlink_status(dir, error)) &&
      !std::filesystem::is_directory(dir)) {
    throw cltci::common::InputError("--tables: " + dir.string() + " is not a directory");
  }
  if (!std::filesystem::exists(dir)) {
    const auto parent = dir.parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent)) {
      throw cltci::common::InputError("--tables: directory " + parent.string() + " does not exist");
    }
    return;
  }
  if (overwrite) return;
  for (const auto& name : cltci::run::table_file_names()) {
    const auto file = dir / name;
    if (std::filesystem::exists(std::filesystem::symlink_status(file, error))) {
      throw cltci::common::InputError("--tables: " + file.string() +
                                      " exists; pass --overwrite to replace it");
    }
  }
}

std::string joined(const std::vector<std::filesystem::path>& files) {
  std::string out;
  for (const auto& file : files) out += (out.empty() ? "" : ", ") + file.filename().string();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  cltci::apps::CommonFlags flags;
  cltci::run::ReportOptions options;
  std::filesystem::path output, summary, tables, curves;
  std::vector<std::string> compare;
  bool overwrite = false;
  return cltci::apps::run_main(
      "report", "Print the paper's Dice table from evaluate runs, with paired tests", argc, argv,
      flags,
      [&](CLI::App& app) {
        app.add_option(
               "evaluations", options.evaluations,
               "evaluate run directories (or their summary.json); with --curves: pretrain or "
               "finetune run directories (or metrics.csv files)")
            ->required();
        app.add_option("--compare", compare,
                       "A:B compares initialisation A with B over matched (fold, seed) cells "
                       "(repeatable; default: every row against the first)");
        app.add_option("--output", output, "also write the table and tests to this text file");
        app.add_option("--summary", summary, "write the table and tests as JSON to this file");
        app.add_option(
            "--tables", tables,
            "write dice.{md,csv,tex}, hd95.* and assd.* (when the evaluations have surface "
            "distances) and dice_vs_m.png into this directory");
        app.add_option(
            "--curves", curves,
            "draw the training curves (loss, lr, probe top-1) of the given runs into this "
            "PNG file instead of a table");
        app.add_flag("--overwrite", overwrite,
                     "replace existing --output / --summary / --tables / --curves files");
        app.add_option("--log-level", flags.log_level, "trace | debug | info | warn | error | off");
        cltci::apps::add_version_flag(app);
      },
      [&] {
        if (!curves.empty()) {
          if (!compare.empty() || !output.empty() || !summary.empty() || !tables.empty()) {
            throw cltci::common::InputError(
                "--curves draws training runs; --compare, --output, --summary and --tables take "
                "evaluate runs (run report once for each)");
          }
          if (curves.extension() != ".png") {
            throw cltci::common::InputError("--curves: " + curves.string() +
                                            ": give a file name ending in .png");
          }
          check_output(curves, "--curves", overwrite);
          const auto read = cltci::run::read_training_curves(options.evaluations);
          cltci::data::write_png(curves, cltci::run::training_curves_plot(read));
          std::cout << "Training curves of " << read.size() << " run(s) in " << curves.string()
                    << "\n";
          return 0;
        }
        for (const auto& pair : compare) {
          const auto colon = pair.find(':');
          if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size()) {
            throw cltci::common::InputError("--compare: expected A:B, got '" + pair + "'");
          }
          options.comparisons.emplace_back(pair.substr(0, colon), pair.substr(colon + 1));
        }
        check_output(output, "--output", overwrite);
        check_output(summary, "--summary", overwrite);
        check_tables_dir(tables, overwrite);
        const auto report = cltci::run::make_report(options);
        const std::string text =
            "Dice (%) pooled over each test fold, mean(std) over folds x seeds\n" + report.table +
            (report.comparisons.empty() ? "" : "\n" + report.comparisons);
        if (!output.empty()) cltci::common::write_file_atomic(output, std::string_view(text));
        if (!summary.empty())
          cltci::common::write_file_atomic(summary, std::string_view(report.json));
        std::cout << text;
        if (!tables.empty()) {
          const auto written = cltci::run::write_tables(report.tables, tables);
          if (!report.tables_note.empty()) spdlog::info("[report] {}", report.tables_note);
          std::cout << "\nTables in " << tables.string() << ": " << joined(written) << "\n";
        }
        return 0;
      });
}
