// MIMIC-CXR-JPG v2.0.0 (datasets.md §5.3): mimic-cxr-2.0.0-metadata.csv, images at
// files/p<first 2 digits>/p<subject_id>/s<study_id>/<dicom_id>.jpg. Order by StudyDate +
// StudyTime; StudyTime is numeric and loses its leading zero (83314.0 = 08:33:14), so its integer
// part is zero-padded to six digits. Dates are shifted per patient: only intervals mean anything.
#include "cltci/common/atomic_file.h"
#include "data/importers/importer_support.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <utility>

namespace cltci::data::importers {
namespace fs = std::filesystem;
namespace {

bool digits_only(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// "" when the date or time is malformed.
std::string study_datetime(const std::string& date, const std::string& time) {
  if (date.size() != 8 || !digits_only(date)) return "";
  std::string whole = time.substr(0, time.find('.'));
  if (!digits_only(whole) || whole.size() > 6) return "";
  whole.insert(0, 6 - whole.size(), '0');
  return date.substr(0, 4) + "-" + date.substr(4, 2) + "-" + date.substr(6, 2) + "T" +
         whole.substr(0, 2) + ":" + whole.substr(2, 2) + ":" + whole.substr(4, 2);
}

std::string view_of(const std::string& position, const std::string& meaning) {
  if (!position.empty()) return position;
  const std::string m = lower(meaning);
  if (m == "postero-anterior") return "PA";
  if (m == "antero-posterior") return "AP";
  if (m.find("lateral") != std::string::npos) return "LAT";
  return "";
}

}  // namespace

void import_mimic(ImportSession& session) {
  const fs::path& root = session.options().root;
  const fs::path csv = find_metadata(session, {root / "mimic-cxr-2.0.0-metadata.csv"});
  if (csv.empty()) return;
  const CsvTable table = read_csv_table(csv);
  const int dicom_col = table.require("dicom_id", session);
  const int subject_col = table.require("subject_id", session);
  const int study_col = table.require("study_id", session);
  const int view_col = table.require("ViewPosition", session);
  const int date_col = table.require("StudyDate", session);
  const int time_col = table.require("StudyTime", session);
  const int meaning_col = table.column("ViewCodeSequence_CodeMeaning");
  if (std::min({dicom_col, subject_col, study_col, view_col, date_col, time_col}) < 0) return;
  const auto needed =
      static_cast<std::size_t>(std::max(
          {dicom_col, subject_col, study_col, view_col, date_col, time_col, meaning_col})) +
      1;

  // The official split (patient-disjoint) when it is there.
  std::map<std::string, std::string> split_of_image;
  std::error_code error;
  if (const fs::path split_csv = root / "mimic-cxr-2.0.0-split.csv";
      fs::is_regular_file(split_csv, error)) {
    const CsvTable splits = read_csv_table(split_csv);
    const int id = splits.require("dicom_id", session);
    const int split = splits.require("split", session);
    for (const CsvRecord& record : splits.records) {
      if (id < 0 || split < 0 ||
          record.fields.size() <= static_cast<std::size_t>(std::max(id, split))) {
        continue;
      }
      std::string name = record.fields[static_cast<std::size_t>(split)];
      if (name == "validate") name = "val";
      split_of_image[record.fields[static_cast<std::size_t>(id)]] = name;
    }
  }

  for (const CsvRecord& record : table.records) {
    const std::string where = table.where(record);
    const auto field = [&](int c) {
      return c < 0 ? std::string() : record.fields[static_cast<std::size_t>(c)];
    };
    if (record.fields.size() < needed) {
      session.fatal(csv.string() + ":" + std::to_string(record.line) + ": too few fields");
      continue;
    }
    const std::string subject = field(subject_col);
    const std::string study = field(study_col);
    const std::string dicom_id = field(dicom_col);
    if (subject.size() < 2 || !digits_only(subject) || !digits_only(study)) {
      session.fatal(csv.string() + ":" + std::to_string(record.line) +
                    ": subject_id and study_id must be integers");
      continue;
    }
    const std::string view = view_of(field(view_col), field(meaning_col));
    if (!session.keep_view(view)) continue;
    const std::string time = study_datetime(field(date_col), field(time_col));
    if (time.empty()) {
      session.fatal(csv.string() + ":" + std::to_string(record.line) + ": StudyDate '" +
                    field(date_col) + "' / StudyTime '" + field(time_col) + "' not understood");
      continue;
    }
    const fs::path file = root / "files" / ("p" + subject.substr(0, 2)) / ("p" + subject) /
                          ("s" + study) / (dicom_id + ".jpg");
    if (!fs::is_regular_file(file, error)) {
      session.problem(file, "image listed in the CSV not found", where);
      continue;
    }
    ManifestRow row;
    row.path = fs::absolute(file).lexically_normal();
    row.patient_id = session.patient_id(subject);
    row.study = session.prefix() + ":" + study;
    row.time = time;
    row.view = view;
    if (const auto it = split_of_image.find(dicom_id); it != split_of_image.end()) {
      row.split = it->second;
    }
    // Images of one study share its time: the study is the time point, the dicom_id the tie.
    session.add(std::move(row), {time + "|" + study, dicom_id});
  }
}

}  // namespace cltci::data::importers
