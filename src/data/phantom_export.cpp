#include "cltci/data/phantom_export.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/manifest.h"
#include "data/civil_date.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <utility>

namespace cltci::data {
namespace fs = std::filesystem;
namespace {

using detail::civil_days;
using detail::civil_from_days;

constexpr int kJsrtSide = 2048;  // the film matrix, fixed by the format (datasets.md §1)
constexpr int kScrSide = 1024;   // SCR masks are half the film's resolution (datasets.md §2)

std::string format_number(const char* pattern, long long value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

/// The part of "phantom:p0003" after the prefix: the folder / PatientID of the exports.
std::string local_id(const PhantomEntry& entry) {
  const std::size_t colon = entry.patient_id.find(':');
  return colon == std::string::npos ? entry.patient_id : entry.patient_id.substr(colon + 1);
}

cv::Mat to_depth(const cv::Mat& display, int bits) {
  cv::Mat out;
  if (bits == 16) {
    display.convertTo(out, CV_16UC1, 65535.0);
  } else {
    display.convertTo(out, CV_8UC1, 255.0);
  }
  return out;
}

cv::Mat binary(const cv::Mat& labels, int value) {
  cv::Mat mask;
  cv::compare(labels, value, mask, cv::CMP_EQ);  // 255 where the label matches
  return mask;
}

/// Images per patient in the plan (the DICOM and NIH names are derived from it).
std::map<int, int> counts_per_patient(const std::vector<PhantomEntry>& plan) {
  std::map<int, int> counts;
  for (const PhantomEntry& entry : plan) ++counts[entry.patient];
  return counts;
}

PhantomExport export_png(const fs::path& dir, const PhantomOptions& options) {
  // Images and label maps live in separate trees so that the folder-per-patient importer, run
  // on <dir>/images, sees only X-rays: a mask beside its image would be imported as one.
  PhantomExport out;
  out.root = dir / "images";
  out.import_kind = "folder";
  out.manifest = dir / "manifest.csv";
  Manifest manifest;
  manifest.file = out.manifest;
  for (const PhantomEntry& entry : phantom_plan(options)) {
    const PhantomImage phantom = render_phantom(options, entry.patient, entry.order);
    PhantomExportFile file;
    file.entry = entry;
    file.image = dir / "images" / (entry.name + ".png");
    file.label_map = dir / "masks" / (entry.name + ".png");
    file.patient_id = entry.patient_id;
    write_png(file.image, to_depth(phantom.image, options.bits));
    write_png(file.label_map, phantom.labels);
    ManifestRow row;
    row.path = file.image;
    row.patient_id = entry.patient_id;
    row.order = entry.order;
    row.time = entry.time;
    row.view = "PA";
    row.mask = file.label_map;
    manifest.rows.push_back(std::move(row));
    out.files.push_back(std::move(file));
  }
  save_manifest(manifest, out.manifest);
  return out;
}

PhantomExport export_montgomery(const fs::path& dir, const PhantomOptions& options) {
  // Montgomery has one image per patient, so each acquisition becomes its own MCUCXR case: the
  // real layout cannot carry the phantom's follow-ups.
  PhantomExport out;
  out.root = dir / "MontgomerySet";
  out.import_kind = "montgomery";
  int number = 0;
  for (const PhantomEntry& entry : phantom_plan(options)) {
    const PhantomImage phantom = render_phantom(options, entry.patient, entry.order);
    ++number;
    const std::string stem = format_number("MCUCXR_%04lld", number);
    // The suffix is the TB label in the real set; here it alternates with the patient so that
    // importers are seen to drop it from the id. It says nothing about the image.
    const std::string name = stem + "_" + std::to_string(entry.patient % 2) + ".png";
    PhantomExportFile file;
    file.entry = entry;
    file.image = out.root / "CXR_png" / name;
    file.left_mask = out.root / "ManualMask" / "leftMask" / name;
    file.right_mask = out.root / "ManualMask" / "rightMask" / name;
    file.patient_id = "montgomery:" + stem;
    write_png(file.image, to_depth(phantom.image, options.bits));
    write_png(file.left_mask, binary(phantom.labels, 1));
    write_png(file.right_mask, binary(phantom.labels, 2));
    out.files.push_back(std::move(file));
  }
  return out;
}

PhantomExport export_jsrt(const fs::path& dir, const PhantomOptions& options) {
  // JSRT also has one image per patient. Case numbers split into SCR folds by parity (odd in
  // fold1, even in fold2), as SCR distributes them.
  PhantomExport out;
  out.root = dir;
  out.import_kind = "jsrt";
  int number = 0;
  for (const PhantomEntry& entry : phantom_plan(options)) {
    const PhantomImage phantom = render_phantom(options, entry.patient, entry.order);
    ++number;
    const std::string stem = format_number("JPCNN%03lld", number);
    const fs::path fold = dir / "scratch" / (number % 2 == 1 ? "fold1" : "fold2") / "masks";
    PhantomExportFile file;
    file.entry = entry;
    file.image = dir / "All247images" / (stem + ".IMG");
    file.left_mask = fold / "left lung" / (stem + ".gif");
    file.right_mask = fold / "right lung" / (stem + ".gif");
    file.patient_id = "jsrt:" + stem;
    write_jsrt_img(file.image, jsrt_stored_values(pad_to_square(phantom.image, kJsrtSide, false)));
    const cv::Mat labels = pad_to_square(phantom.labels, kScrSide, true);
    write_gif_mask(file.left_mask, binary(labels, 1));
    write_gif_mask(file.right_mask, binary(labels, 2));
    out.files.push_back(std::move(file));
  }
  return out;
}

PhantomExport export_dicom(const fs::path& dir, const PhantomOptions& options, bool flat) {
  PhantomExport out;
  out.root = dir;
  out.import_kind = "dicom";
  const std::vector<PhantomEntry> plan = phantom_plan(options);
  const std::map<int, int> counts = counts_per_patient(plan);
  const long long epoch = civil_days(2020, 1, 6);
  for (std::size_t index = 0; index < plan.size(); ++index) {
    const PhantomEntry& entry = plan[index];
    const PhantomImage phantom = render_phantom(options, entry.patient, entry.order);
    const std::string local = local_id(entry);
    // Names run against the acquisition order (reversed within a patient folder and across the
    // flat folder), so an importer that sorts by name instead of by the tags fails.
    const int reversed = counts.at(entry.patient) - 1 - entry.order;
    std::string name = flat ? format_number("IM%07lld", static_cast<long long>(plan.size() - index))
                            : format_number("IM%04lld", reversed + 1);
    // Every third file has no extension, as archives store them: found by its DICM magic.
    if (entry.order % 3 != 1) name += ".dcm";
    PhantomExportFile file;
    file.entry = entry;
    file.image = flat ? dir / name : dir / local / name;
    file.patient_id = "dicom:" + local;

    int year = 0;
    int month = 0;
    int day = 0;
    civil_from_days(epoch + 3LL * entry.patient + 45LL * entry.order, year, month, day);
    const int hour = 7 + (entry.patient + 2 * entry.order) % 10;  // 07..16: leading zeros too
    const int minute = (17 * entry.order + 5 * entry.patient) % 60;
    char date[48];
    char time[48];
    std::snprintf(date, sizeof date, "%04d%02d%02d", year, month, day);
    std::snprintf(time, sizeof time, "%02d%02d00", hour, minute);
    char iso[64];
    std::snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:00", year, month, day, hour, minute);
    file.time = iso;

    DicomWriteOptions o;
    o.patient_id = local;
    o.view_position = "PA";
    o.modality = entry.order % 2 == 0 ? "DX" : "CR";
    o.instance_number = entry.order + 1;
    o.bits_stored = 12;
    if (entry.order % 2 == 0) {
      // Acquisition date/time present: the importer must prefer it over the study's, which is
      // the same day an hour earlier (the study opens before the exposure).
      o.acquisition_date = date;
      o.acquisition_time = time;
      o.study_date = date;
      o.study_time = format_number("%02lld0000", hour - 1);
    } else {
      // Only the study's date and time: the last fallback of datasets.md §6; every other such
      // file truncates TM to HHMM, as the standard allows.
      o.study_date = date;
      o.study_time = entry.order % 4 == 3 ? std::string(time, 4) : std::string(time);
    }
    cv::Mat stored(phantom.image.size(), CV_16UC1);
    if (entry.order % 2 == 0) {
      // MONOCHROME2, identity modality LUT; window centre 2048 / width 4096 maps 0..4095 onto
      // the output range exactly (PS3.3 C.11.2.1.2). The second window is a narrower
      // alternative that readers must not pick.
      phantom.image.convertTo(stored, CV_16UC1, 4095.0);
      o.window_centers = {2048, 1000};
      o.window_widths = {4096, 800};
    } else {
      // MONOCHROME1 with slope 2 and intercept -100: stored s = (1 - d) * 2047, modality value
      // v = 2s - 100 in [-100, 3994]; the first window (centre 1947.5, width 4095) spans it
      // exactly, and DCMTK's MONOCHROME1 output inverts it back to d.
      cv::Mat inverted = 1.0 - phantom.image;
      inverted.convertTo(stored, CV_16UC1, 2047.0);
      o.monochrome1 = true;
      o.rescale_slope = 2.0;
      o.rescale_intercept = -100.0;
      o.window_centers = {1947.5, 500};
      o.window_widths = {4095, 300};
    }
    write_dicom(file.image, stored, o);
    out.files.push_back(std::move(file));
  }
  return out;
}

PhantomExport export_nih(const fs::path& dir, const PhantomOptions& options) {
  // ChestX-ray14 v2020: file-name index reversed against `Follow-up #` within each patient, as
  // happens for 24,106 real rows, so that only the CSV gives the order.
  PhantomExport out;
  out.root = dir;
  out.import_kind = "nih";
  const std::vector<PhantomEntry> plan = phantom_plan(options);
  const std::map<int, int> counts = counts_per_patient(plan);
  std::ostringstream csv;
  csv << "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,"
         "View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]\n";
  for (const PhantomEntry& entry : plan) {
    const PhantomImage phantom = render_phantom(options, entry.patient, entry.order);
    const long long patient = entry.patient + 1;
    const int index = counts.at(entry.patient) - 1 - entry.order;
    const std::string name =
        format_number("%08lld", patient) + "_" + format_number("%03lld", index) + ".png";
    PhantomExportFile file;
    file.entry = entry;
    file.image = dir / "images_001" / "images" / name;
    file.patient_id = "nih:" + format_number("%08lld", patient);
    write_png(file.image, to_depth(phantom.image, 8));
    csv << name << ",No Finding," << entry.order << ',' << patient << ','
        << 30 + entry.patient % 40 + entry.order / 2 << ',' << (entry.patient % 2 ? 'F' : 'M')
        << ",PA," << phantom.image.cols << ',' << phantom.image.rows << ",0.143,0.143\n";
    out.files.push_back(std::move(file));
  }
  common::write_file_atomic(dir / "Data_Entry_2017_v2020.csv", csv.str());
  return out;
}

}  // namespace

const std::vector<std::string>& phantom_format_names() {
  static const std::vector<std::string> names{"png",   "montgomery", "jsrt",
                                              "dicom", "dicom-flat", "nih"};
  return names;
}

PhantomFormat parse_phantom_format(const std::string& name) {
  static const std::map<std::string, PhantomFormat> formats{
      {"png", PhantomFormat::kPng},
      {"montgomery", PhantomFormat::kMontgomery},
      {"jsrt", PhantomFormat::kJsrt},
      {"dicom", PhantomFormat::kDicom},
      {"dicom-flat", PhantomFormat::kDicomFlat},
      {"nih", PhantomFormat::kNih}};
  const auto it = formats.find(name);
  if (it != formats.end()) return it->second;
  std::string known;
  for (const std::string& n : phantom_format_names()) known += (known.empty() ? "" : ", ") + n;
  throw common::InputError("unknown phantom format '" + name + "' (known: " + known + ")");
}

std::string to_string(PhantomFormat format) {
  return phantom_format_names().at(static_cast<std::size_t>(format));
}

cv::Mat pad_to_square(const cv::Mat& image, int side, bool nearest) {
  const int square = std::max(image.cols, image.rows);
  const int left = (square - image.cols) / 2;
  const int top = (square - image.rows) / 2;
  cv::Mat padded;
  cv::copyMakeBorder(image, padded, top, square - image.rows - top, left,
                     square - image.cols - left, cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::Mat resized;
  cv::resize(padded, resized, cv::Size(side, side), 0, 0,
             nearest ? cv::INTER_NEAREST : cv::INTER_LINEAR);
  return resized;
}

cv::Mat jsrt_stored_values(const cv::Mat& display) {
  cv::Mat clipped;
  cv::min(cv::max(display, 0.0), 1.0, clipped);
  cv::Mat stored;
  // Film darkness is the negative of the displayed brightness: v = 4095 - round(4095 d).
  clipped.convertTo(stored, CV_16UC1, -4095.0, 4095.0);
  return stored;
}

PhantomExport export_phantom(const fs::path& dir,
                             const PhantomOptions& options,
                             PhantomFormat format) {
  options.validate();
  PhantomExport out;
  switch (format) {
    case PhantomFormat::kPng:
      out = export_png(dir, options);
      break;
    case PhantomFormat::kMontgomery:
      out = export_montgomery(dir, options);
      break;
    case PhantomFormat::kJsrt:
      out = export_jsrt(dir, options);
      break;
    case PhantomFormat::kDicom:
      out = export_dicom(dir, options, false);
      break;
    case PhantomFormat::kDicomFlat:
      out = export_dicom(dir, options, true);
      break;
    case PhantomFormat::kNih:
      out = export_nih(dir, options);
      break;
  }
  out.format = format;
  return out;
}

}  // namespace cltci::data
