// DICOM pixels through DCMTK (datasets.md §6). DicomImage applies the modality LUT, the VOI
// transform and the presentation polarity, and already inverts MONOCHROME1 in its output stage
// (DiMono1Image passes negative=1), so nothing here may invert again.
#include "cltci/build_info.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/image_io.h"
#include "cltci/data/image_writers.h"
#include "data/dicom_transfer_syntaxes.h"

#if CLTCI_WITH_DICOM
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpls/djrparam.h>
#endif

#include <opencv2/core.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace cltci::data {

#if CLTCI_WITH_DICOM

DecodedImage read_dicom(const std::filesystem::path& file) {
  const auto fail = [&](const std::string& why) {
    throw common::InputError("'" + file.string() + "': " + why);
  };
  std::error_code exists_error;
  if (!std::filesystem::is_regular_file(file, exists_error)) fail("no such file");
  register_transfer_syntax_codecs();
  DcmFileFormat format;
  const OFCondition loaded = format.loadFile(file.c_str());
  if (loaded.bad()) fail(std::string("not readable DICOM: ") + loaded.text());
  DcmDataset* dataset = format.getDataset();
  Uint16 bits_stored = 0;
  dataset->findAndGetUint16(DCM_BitsStored, bits_stored);

  DicomImage image(&format, dataset->getOriginalXfer());
  if (image.getStatus() != EIS_Normal) {
    fail(std::string("cannot decode DICOM pixels: ") + DicomImage::getString(image.getStatus()));
  }
  if (!image.isMonochrome()) fail("colour DICOM is not a chest X-ray this toolkit reads");
  // First stored window when several (the producer's default view), else the first VOI LUT,
  // else the full range of the modality values.
  if (image.getWindowCount() > 0) {
    image.setWindow(0);
  } else if (image.getVoiLutCount() > 0) {
    image.setVoiLut(0);
  } else {
    image.setMinMaxWindow();
  }
  const auto* data = static_cast<const Uint16*>(image.getOutputData(16));
  if (!data)
    fail(std::string("cannot render DICOM pixels: ") + DicomImage::getString(image.getStatus()));
  const int width = static_cast<int>(image.getWidth());
  const int height = static_cast<int>(image.getHeight());
  DecodedImage decoded;
  decoded.bits = bits_stored > 0 ? bits_stored : 16;
  cv::Mat(height, width, CV_16UC1, const_cast<Uint16*>(data))
      .convertTo(decoded.pixels, CV_32F, 1.0 / 65535.0);
  return decoded;
}

namespace {

std::string decimal_string(double value) {
  // DS values are at most 16 characters.
  char text[32];
  std::snprintf(text, sizeof text, "%.10g", value);
  return text;
}

std::string multi_value(const std::vector<double>& values) {
  std::string joined;
  for (const double v : values) {
    if (!joined.empty()) joined += '\\';
    joined += decimal_string(v);
  }
  return joined;
}

}  // namespace

void write_dicom(const std::filesystem::path& file,
                 const cv::Mat& stored,
                 const DicomWriteOptions& options) {
  if (stored.empty() || stored.type() != CV_16UC1) {
    throw common::Error("write_dicom '" + file.string() + "': need a CV_16UC1 image");
  }
  if (options.bits_stored < 1 || options.bits_stored > 16) {
    throw common::Error("write_dicom '" + file.string() + "': bits_stored must be 1..16");
  }
  register_transfer_syntax_codecs();
  DcmFileFormat format;
  DcmDataset* ds = format.getDataset();
  char uid[128];
  const auto put = [&](const DcmTagKey& tag, const std::string& value) {
    if (value.empty()) return;
    const OFCondition status = ds->putAndInsertString(tag, value.c_str());
    if (status.bad()) {
      throw common::Error("write_dicom '" + file.string() + "': " + status.text());
    }
  };
  put(DCM_SOPClassUID, UID_DigitalXRayImageStorageForPresentation);
  put(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  put(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
  put(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
  put(DCM_Modality, options.modality);
  put(DCM_PatientID, options.patient_id);
  put(DCM_StudyDate, options.study_date);
  put(DCM_StudyTime, options.study_time);
  put(DCM_AcquisitionDate, options.acquisition_date);
  put(DCM_AcquisitionTime, options.acquisition_time);
  put(DCM_ViewPosition, options.view_position);
  put(DCM_InstanceNumber, std::to_string(options.instance_number));
  put(DCM_PhotometricInterpretation, options.monochrome1 ? "MONOCHROME1" : "MONOCHROME2");
  put(DCM_RescaleSlope, decimal_string(options.rescale_slope));
  put(DCM_RescaleIntercept, decimal_string(options.rescale_intercept));
  put(DCM_WindowCenter, multi_value(options.window_centers));
  put(DCM_WindowWidth, multi_value(options.window_widths));
  put(DCM_PixelSpacing, options.pixel_spacing);
  put(DCM_ImagerPixelSpacing, options.imager_pixel_spacing);
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(stored.rows));
  ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(stored.cols));
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(options.bits_stored));
  ds->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(options.bits_stored - 1));
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  const cv::Mat contiguous = stored.isContinuous() ? stored : stored.clone();
  const OFCondition pixels = ds->putAndInsertUint16Array(
      DCM_PixelData, contiguous.ptr<Uint16>(0), static_cast<unsigned long>(contiguous.total()));
  if (pixels.bad()) throw common::Error("write_dicom '" + file.string() + "': " + pixels.text());

  E_TransferSyntax xfer = EXS_LittleEndianExplicit;
  if (options.jpeg_ls_lossless) {
    xfer = EXS_JPEGLSLossless;
    DJLSRepresentationParameter lossless(2, OFTrue);
    const OFCondition encoded = ds->chooseRepresentation(xfer, &lossless);
    if (encoded.bad() || !ds->canWriteXfer(xfer)) {
      throw common::Error("write_dicom '" + file.string() + "': JPEG-LS encoding failed");
    }
  }
  common::write_file_atomic(file, [&](const std::filesystem::path& temporary) {
    const OFCondition saved = format.saveFile(temporary.c_str(), xfer);
    if (saved.bad()) {
      throw common::Error("cannot write DICOM '" + file.string() + "': " + saved.text());
    }
  });
}

#else  // !CLTCI_WITH_DICOM

DecodedImage read_dicom(const std::filesystem::path& file) {
  throw common::InputError("'" + file.string() + "': this build has no DICOM support (DCMTK)");
}

void write_dicom(const std::filesystem::path& file, const cv::Mat&, const DicomWriteOptions&) {
  throw common::InputError("'" + file.string() + "': this build has no DICOM support (DCMTK)");
}

#endif

}  // namespace cltci::data
