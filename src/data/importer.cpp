#include "cltci/data/importer.h"

#include "cltci/common/error.h"
#include "data/importers/importer_support.h"

#include <functional>
#include <map>
#include <sstream>
#include <system_error>

namespace cltci::data {

const std::vector<std::string>& import_kinds() {
  static const std::vector<std::string> kinds = {"folder", "jsrt",     "montgomery", "shenzhen",
                                                 "nih",    "chexpert", "mimic",      "dicom"};
  return kinds;
}

std::string ImportReport::to_text() const {
  std::ostringstream out;
  out << "images: " << images << '\n'
      << "patients: " << patients << '\n'
      << "patients with >= 2 time points: " << patients_with_followups << '\n'
      << "labelled images: " << labelled << '\n'
      << "left out by the view filter: " << filtered_views << '\n'
      << "kept with an unknown view: " << unknown_views << '\n'
      << "skipped files: " << skipped.size() << '\n';
  for (const SkippedFile& skip : skipped)
    out << "  " << skip.file.string() << ": " << skip.reason << '\n';
  for (const std::string& warning : warnings) out << "warning: " << warning << '\n';
  return out.str();
}

ImportResult import_dataset(const ImportOptions& options) {
  using Importer = std::function<void(importers::ImportSession&)>;
  static const std::map<std::string, Importer> importers_by_kind = {
      {"folder", importers::import_folder},
      {"jsrt", importers::import_jsrt},
      {"montgomery", importers::import_montgomery},
      {"shenzhen", importers::import_shenzhen},
      {"nih", importers::import_nih},
      {"chexpert", importers::import_chexpert},
      {"mimic", importers::import_mimic},
      {"dicom", importers::import_dicom}};
  const auto it = importers_by_kind.find(options.kind);
  if (it == importers_by_kind.end()) {
    std::string known;
    for (const std::string& kind : import_kinds()) known += (known.empty() ? "" : ", ") + kind;
    throw common::InputError("unknown importer '" + options.kind + "' (known: " + known + ")");
  }
  std::error_code error;
  if (!std::filesystem::is_directory(options.root, error)) {
    throw common::InputError("'" + options.root.string() + "': data set folder not found");
  }
  importers::ImportSession session(options, options.kind);
  it->second(session);
  return session.finish();
}

}  // namespace cltci::data
