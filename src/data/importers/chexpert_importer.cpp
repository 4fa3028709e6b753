// CheXpert (datasets.md §5.2): train.csv / valid.csv with paths
// CheXpert-v1.0[-small]/{train|valid}/patientNNNNN/studyN/viewN_{frontal|lateral}.jpg. There
// are no dates; study numbers run 1..n and agree with age in every patient, so they are the order.
#include "data/importers/importer_support.h"

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <regex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace cltci::data::importers {
namespace fs = std::filesystem;

void import_chexpert(ImportSession& session) {
  const fs::path& root = session.options().root;
  std::vector<fs::path> csvs;
  if (!session.options().csv.empty()) {
    const fs::path csv = find_metadata(session, {});
    if (!csv.empty()) csvs.push_back(csv);
  } else {
    std::error_code error;
    for (const char* name : {"train.csv", "valid.csv"}) {
      if (fs::is_regular_file(root / name, error)) csvs.push_back(root / name);
    }
    if (csvs.empty()) {
      session.fatal("'" + root.string() + "': neither train.csv nor valid.csv found");
    }
  }
  static const std::regex ids(R"((?:^|/)patient(\d+)/study(\d+)/)");
  for (const fs::path& csv : csvs) {
    const CsvTable table = read_csv_table(csv);
    const int path_col = table.require("Path", session);
    const int frontal_col = table.require("Frontal/Lateral", session);
    const int appa_col = table.require("AP/PA", session);
    if (path_col < 0 || frontal_col < 0 || appa_col < 0) continue;
    const auto needed = static_cast<std::size_t>(std::max({path_col, frontal_col, appa_col})) + 1;
    for (const CsvRecord& record : table.records) {
      const std::string where = table.where(record);
      if (record.fields.size() < needed) {
        session.fatal(csv.string() + ":" + std::to_string(record.line) + ": too few fields");
        continue;
      }
      const std::string listed = record.fields[static_cast<std::size_t>(path_col)];
      std::smatch m;
      if (!std::regex_search(listed, m, ids)) {
        session.fatal(csv.string() + ":" + std::to_string(record.line) + ": path '" + listed +
                      "' has no patientNNNNN/studyN/ part");
        continue;
      }
      const bool frontal = record.fields[static_cast<std::size_t>(frontal_col)] == "Frontal";
      std::string view = record.fields[static_cast<std::size_t>(appa_col)];
      if (!frontal && view.empty()) view = "LAT";
      if (frontal && view != "AP" && view != "PA") view.clear();
      if (!frontal && session.options().frontal_only) {
        session.filtered();
        continue;
      }
      if (frontal && !session.keep_view(view)) continue;
      // The first component is the archive's top folder, which the user's root replaces.
      const fs::path relative(listed);
      fs::path inside;
      for (auto it = std::next(relative.begin()); it != relative.end(); ++it) inside /= *it;
      const fs::path file = root / inside;
      std::error_code error;
      if (!fs::is_regular_file(file, error)) {
        session.problem(file, "image listed in the CSV not found", where);
        continue;
      }
      ManifestRow row;
      row.path = fs::absolute(file).lexically_normal();
      row.patient_id = session.patient_id(m[1].str());
      row.study = session.prefix() + ":" + m[1].str() + "/study" + m[2].str();
      row.view = view;
      session.add(std::move(row), {zero_padded(std::stoll(m[2].str()), 6), listed});
    }
  }
}

}  // namespace cltci::data::importers
