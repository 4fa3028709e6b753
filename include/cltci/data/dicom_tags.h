// The DICOM attributes importers need to group, order and filter X-rays (datasets.md §6), read
// without decoding the pixel data.
#pragma once

#include <filesystem>
#include <limits>
#include <string>

namespace cltci::data {

struct DicomTags {
  std::string patient_id;
  std::string study_uid;
  std::string series_uid;
  std::string sop_uid;
  std::string modality;
  std::string view_position;      ///< (0018,5101), upper case, trimmed
  std::string view_code_meaning;  ///< ViewCodeSequence → CodeMeaning, the fallback for the view
  std::string datetime;           ///< ISO 8601 from the best time tag present, empty when none
  std::string datetime_source;    ///< which tag gave it, e.g. "AcquisitionDateTime"
  long instance_number = 0;       ///< 0 when absent
  /// Pixel spacing in mm (rows, columns) from PixelSpacing, else ImagerPixelSpacing; NaN when
  /// neither holds two positive numbers.
  double spacing_row_mm = std::numeric_limits<double>::quiet_NaN();
  double spacing_col_mm = std::numeric_limits<double>::quiet_NaN();
  std::string spacing_source;  ///< "PixelSpacing", "ImagerPixelSpacing" or empty
};

/// Reads the tags up to the pixel data. The time comes from the first of AcquisitionDateTime,
/// AcquisitionDate/Time, ContentDate/Time, SeriesDate/Time, StudyDate/Time that has a date.
/// Throws common::InputError naming the file when it is not readable DICOM, or when the build
/// has no DICOM support.
DicomTags read_dicom_tags(const std::filesystem::path& file);

/// Joins a DA (`YYYYMMDD`) and a TM (`HHMMSS.FFFFFF`, possibly truncated to `HHMM` or `HH`, or
/// the old `HH:MM:SS`) into `YYYY-MM-DDThh:mm:ss[.ffffff]`; a missing time gives 00:00:00. A DT
/// (`YYYYMMDDHHMMSS.FFFFFF&ZZXX`) can be passed as `date` with an empty time; its offset is
/// dropped. Returns "" when the date is not valid.
std::string dicom_datetime_iso(const std::string& date, const std::string& time);

/// "PA"/"AP" (frontal), "LL"/"RL"/"LAT" (lateral) from ViewPosition, else from the view code's
/// meaning ("postero-anterior", "antero-posterior", "lateral"...); "" when unknown.
std::string dicom_view(const DicomTags& tags);

}  // namespace cltci::data
