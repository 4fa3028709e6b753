// A directory of DICOM files (datasets.md §6): grouped by PatientID, ordered by the best time
// tag present (AcquisitionDateTime, then Acquisition, Content, Series, Study date/time), ties by
// InstanceNumber. Files without any date follow the dated ones, by InstanceNumber and path.
// Only projection radiography (CR, DX, DR) is kept.
#include "cltci/common/error.h"
#include "cltci/data/dicom_tags.h"
#include "data/importers/importer_support.h"

#include <filesystem>
#include <string>
#include <utility>

namespace cltci::data::importers {
namespace fs = std::filesystem;

void import_dicom(ImportSession& session) {
  for (const fs::path& file : list_files(session.options().root)) {
    const std::string ext = lower(file.extension().string());
    // Archives store DICOM with any name; the DICM magic decides for the others.
    if (ext != ".dcm" && ext != ".dicom" && (is_image_extension(ext) || !has_dicom_magic(file))) {
      continue;
    }
    DicomTags tags;
    try {
      tags = read_dicom_tags(file);
    } catch (const common::InputError& e) {
      session.problem(file, e.what());
      continue;
    }
    if (tags.patient_id.empty()) {
      session.problem(file, "no PatientID (0010,0020)");
      continue;
    }
    if (!tags.modality.empty() && tags.modality != "CR" && tags.modality != "DX" &&
        tags.modality != "DR") {
      session.filtered();
      continue;
    }
    const std::string view = dicom_view(tags);
    if (!session.keep_view(view)) continue;
    ManifestRow row;
    row.path = fs::absolute(file).lexically_normal();
    row.patient_id = session.patient_id(tags.patient_id);
    row.time = tags.datetime;
    row.view = view;
    row.study = tags.study_uid;
    row.spacing_row_mm = tags.spacing_row_mm;
    row.spacing_col_mm = tags.spacing_col_mm;
    const std::string instance = zero_padded(tags.instance_number, 10);
    // '~' sorts after every digit: undated files come last, each its own time point.
    OrderKey key;
    key.time_point = tags.datetime.empty() ? "~" + instance + row.path.string() : tags.datetime;
    key.tie_break = instance;
    session.add(std::move(row), key);
  }
}

}  // namespace cltci::data::importers
