// root/<patient>/<images> (the paper's BCH layout). Order rule (docs/importers.md): when every
// image of a patient has a time (DICOM tags, else a date in the file name), order by time, and
// equal times are one time point; otherwise order by file name, one time point per image.
#include "cltci/common/error.h"
#include "cltci/data/dicom_tags.h"
#include "data/importers/importer_support.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data::importers {
namespace fs = std::filesystem;
namespace {

// 2021-03-04, 2021_03_04 or 20210304, optionally followed by a time 0930[15] after a separator.
std::string time_from_name(const std::string& name) {
  static const std::regex pattern(
      R"((19|20)(\d\d)[-_]?([01]\d)[-_]?([0-3]\d)(?:[T_ -]?([0-2]\d)[-_:]?([0-5]\d)(?:[-_:]?([0-5]\d))?)?)");
  std::smatch m;
  if (!std::regex_search(name, m, pattern)) return "";
  const int month = std::stoi(m[3]);
  const int day = std::stoi(m[4]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return "";
  std::string iso = m[1].str() + m[2].str() + "-" + m[3].str() + "-" + m[4].str() + "T";
  iso += m[5].matched ? m[5].str() + ":" + m[6].str() + ":" + (m[7].matched ? m[7].str() : "00")
                      : "00:00:00";
  return iso;
}

struct Candidate {
  ManifestRow row;
  std::string relative;
};

}  // namespace

void import_folder(ImportSession& session) {
  const fs::path& root = session.options().root;
  std::map<std::string, std::vector<Candidate>> by_patient;
  std::vector<fs::path> patients;
  for (const fs::directory_entry& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && !name.empty() && name[0] != '.') patients.push_back(entry.path());
  }
  std::sort(patients.begin(), patients.end());
  for (const fs::path& folder : patients) {
    const std::string patient = session.patient_id(folder.filename().string());
    for (const fs::path& file : list_files(folder)) {
      const std::string ext = lower(file.extension().string());
      // Archives often store DICOM without an extension; anything else is not an image.
      const bool dicom_without_extension =
          !is_image_extension(ext) && ext.empty() && has_dicom_magic(file);
      if (!is_image_extension(ext) && !dicom_without_extension) continue;
      Candidate candidate;
      candidate.row.path = fs::absolute(file).lexically_normal();
      candidate.row.patient_id = patient;
      candidate.relative = file.lexically_relative(folder).generic_string();
      const bool dicom = dicom_without_extension || ext == ".dcm" || ext == ".dicom";
      if (dicom) {
        DicomTags tags;
        try {
          tags = read_dicom_tags(file);
        } catch (const common::InputError& e) {
          session.problem(file, e.what());
          continue;
        }
        candidate.row.view = dicom_view(tags);
        candidate.row.time = tags.datetime;
        candidate.row.study = tags.study_uid;
        candidate.row.spacing_row_mm = tags.spacing_row_mm;
        candidate.row.spacing_col_mm = tags.spacing_col_mm;
      } else {
        candidate.row.time = time_from_name(file.filename().string());
      }
      if (!session.keep_view(candidate.row.view)) continue;
      by_patient[patient].push_back(std::move(candidate));
    }
  }
  for (auto& [patient, candidates] : by_patient) {
    const bool all_timed = std::all_of(candidates.begin(), candidates.end(),
                                       [](const Candidate& c) { return !c.row.time.empty(); });
    for (Candidate& c : candidates) {
      OrderKey key;
      key.time_point = all_timed ? c.row.time : c.relative;
      key.tie_break = c.relative;
      session.add(std::move(c.row), key);
    }
  }
}

}  // namespace cltci::data::importers
