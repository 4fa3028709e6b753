#include "cltci/data/dicom_tags.h"

#include "cltci/build_info.h"
#include "cltci/common/error.h"
#include "data/dicom_transfer_syntaxes.h"

#if CLTCI_WITH_DICOM
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#endif

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <system_error>
#include <utility>

namespace cltci::data {
namespace {

std::string trimmed_upper(std::string text) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

bool all_digits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::string dicom_datetime_iso(const std::string& date_in, const std::string& time_in) {
  std::string date = trimmed_upper(date_in);
  std::string time = trimmed_upper(time_in);
  // DT: the time follows the date in the same value, and a UTC offset may trail it.
  if (date.size() > 8 && time.empty()) {
    const std::size_t offset = date.find_first_of("+-", 8);
    time = date.substr(8, offset == std::string::npos ? std::string::npos : offset - 8);
    date.resize(8);
  }
  if (date.size() != 8 || !all_digits(date)) return "";
  const int month = std::stoi(date.substr(4, 2));
  const int day = std::stoi(date.substr(6, 2));
  if (month < 1 || month > 12 || day < 1 || day > 31) return "";
  // ACR-NEMA style "HH:MM:SS" still appears in old archives.
  time.erase(std::remove(time.begin(), time.end(), ':'), time.end());
  std::string fraction;
  if (const std::size_t dot = time.find('.'); dot != std::string::npos) {
    fraction = time.substr(dot + 1);
    time.resize(dot);
  }
  if (!time.empty() && (!all_digits(time) || time.size() % 2 != 0 || time.size() > 6)) return "";
  if (!fraction.empty() && !all_digits(fraction)) fraction.clear();
  time.append(6 - time.size(), '0');
  std::string iso = date.substr(0, 4) + "-" + date.substr(4, 2) + "-" + date.substr(6, 2) + "T" +
                    time.substr(0, 2) + ":" + time.substr(2, 2) + ":" + time.substr(4, 2);
  // Not stoll: a fraction of 19 digits or more would throw out_of_range (found by fuzzing).
  if (fraction.find_first_not_of('0') != std::string::npos) iso += "." + fraction;
  return iso;
}

std::string dicom_view(const DicomTags& tags) {
  const std::string position = trimmed_upper(tags.view_position);
  if (position == "PA" || position == "AP" || position == "LL" || position == "RL") return position;
  if (position == "LATERAL" || position == "LAT" || position == "L") return "LAT";
  const std::string meaning = trimmed_upper(tags.view_code_meaning);
  if (meaning.find("POSTERO-ANTERIOR") != std::string::npos ||
      meaning.find("POSTEROANTERIOR") != std::string::npos) {
    return "PA";
  }
  if (meaning.find("ANTERO-POSTERIOR") != std::string::npos ||
      meaning.find("ANTEROPOSTERIOR") != std::string::npos) {
    return "AP";
  }
  if (meaning.find("LATERAL") != std::string::npos) return "LAT";
  return "";
}

#if CLTCI_WITH_DICOM

DicomTags read_dicom_tags(const std::filesystem::path& file) {
  std::error_code exists_error;
  if (!std::filesystem::is_regular_file(file, exists_error)) {
    throw common::InputError("'" + file.string() + "': no such file");
  }
  register_transfer_syntax_codecs();
  DcmFileFormat format;
  const OFCondition loaded = format.loadFileUntilTag(
      file.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect, DCM_PixelData);
  if (loaded.bad()) {
    throw common::InputError("'" + file.string() + "': not readable DICOM: " + loaded.text());
  }
  DcmDataset* ds = format.getDataset();
  const auto text = [&](const DcmTagKey& tag) {
    OFString value;
    if (ds->findAndGetOFStringArray(tag, value).good()) return std::string(value.c_str());
    return std::string();
  };
  DicomTags tags;
  tags.patient_id = text(DCM_PatientID);
  // Trailing spaces pad LO values to even length; they are not part of the id.
  while (!tags.patient_id.empty() && tags.patient_id.back() == ' ') tags.patient_id.pop_back();
  tags.study_uid = text(DCM_StudyInstanceUID);
  tags.series_uid = text(DCM_SeriesInstanceUID);
  tags.sop_uid = text(DCM_SOPInstanceUID);
  tags.modality = trimmed_upper(text(DCM_Modality));
  tags.view_position = trimmed_upper(text(DCM_ViewPosition));
  DcmItem* view_code = nullptr;
  if (ds->findAndGetSequenceItem(DCM_ViewCodeSequence, view_code, 0).good() && view_code) {
    OFString meaning;
    if (view_code->findAndGetOFString(DCM_CodeMeaning, meaning).good()) {
      tags.view_code_meaning = meaning.c_str();
    }
  }
  const std::string instance = trimmed_upper(text(DCM_InstanceNumber));
  if (!instance.empty()) {
    try {
      tags.instance_number = std::stol(instance);
    } catch (const std::exception&) {
      tags.instance_number = 0;
    }
  }
  // datasets.md §6: PixelSpacing (patient plane) when present, else ImagerPixelSpacing (the
  // detector plane, what projection radiographs usually carry); both are `row\col` in mm.
  for (const auto& [tag, name] :
       {std::pair<DcmTagKey, const char*>{DCM_PixelSpacing, "PixelSpacing"},
        {DCM_ImagerPixelSpacing, "ImagerPixelSpacing"}}) {
    Float64 row = 0.0;
    Float64 col = 0.0;
    if (ds->findAndGetFloat64(tag, row, 0).good() && ds->findAndGetFloat64(tag, col, 1).good() &&
        std::isfinite(row) && std::isfinite(col) && row > 0.0 && col > 0.0) {
      tags.spacing_row_mm = row;
      tags.spacing_col_mm = col;
      tags.spacing_source = name;
      break;
    }
  }
  // datasets.md §6: the acquisition moment is best, the study's the coarsest fallback.
  struct Candidate {
    const char* name;
    DcmTagKey date;
    DcmTagKey time;
  };
  const std::string acquisition_dt = dicom_datetime_iso(text(DCM_AcquisitionDateTime), "");
  if (!acquisition_dt.empty()) {
    tags.datetime = acquisition_dt;
    tags.datetime_source = "AcquisitionDateTime";
    return tags;
  }
  const Candidate candidates[] = {
      {"AcquisitionDate/Time", DCM_AcquisitionDate, DCM_AcquisitionTime},
      {"ContentDate/Time", DCM_ContentDate, DCM_ContentTime},
      {"SeriesDate/Time", DCM_SeriesDate, DCM_SeriesTime},
      {"StudyDate/Time", DCM_StudyDate, DCM_StudyTime},
  };
  for (const Candidate& candidate : candidates) {
    const std::string iso = dicom_datetime_iso(text(candidate.date), text(candidate.time));
    if (!iso.empty()) {
      tags.datetime = iso;
      tags.datetime_source = candidate.name;
      break;
    }
  }
  return tags;
}

#else

DicomTags read_dicom_tags(const std::filesystem::path& file) {
  throw common::InputError("'" + file.string() + "': this build has no DICOM support (DCMTK)");
}

#endif

}  // namespace cltci::data
