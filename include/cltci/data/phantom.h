// A synthetic longitudinal chest X-ray generator with exact lung label maps, so that every part
// of the toolkit (importers, cache, pretraining, fine-tuning, evaluation) runs and is tested
// without any real data. Images are PA views as displayed: dense = bright, so lungs are dark and
// bones / mediastinum bright. Labels: 0 background, 1 the patient's LEFT lung (on the image's
// RIGHT side), 2 the patient's right lung (image left).
//
// Each patient has their own anatomy; each acquisition of a patient changes pose, exposure,
// inspiration depth, devices and opacities, so that images of one patient are similar but not
// identical: the signal CL-TCI learns from.
#pragma once

#include "cltci/data/dataset_cache.h"

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::data {

struct PhantomOptions {
  std::uint64_t seed = 12345;  ///< every image is a pure function of (seed, patient, order)
  int patients = 60;           ///< number of patients
  int min_images = 1;          ///< images per patient are drawn uniformly in [min, max]
  int max_images = 6;
  int width = 320;  ///< native size; non-square exercises the cache's padding
  int height = 288;
  double opacity_probability = 0.3;   ///< chance that an acquisition shows lung opacities
  double device_probability = 0.4;    ///< chance of tubes / wires / ECG electrodes
  double noise = 0.02;                ///< quantum noise standard deviation (image units)
  std::string id_prefix = "phantom";  ///< patient ids are "<prefix>:p0001", ...
  int bits = 8;                       ///< PNG depth of write_phantom_dataset (8 or 16)

  /// Throws common::InputError listing every out-of-range field.
  void validate() const;
  /// Hash of every field that changes the pixels (for cache identities).
  std::uint64_t fingerprint() const;
};

/// One acquisition of the phantom's plan.
struct PhantomEntry {
  int patient = 0;         ///< 0-based patient number
  int order = 0;           ///< 0-based acquisition order within the patient
  std::string patient_id;  ///< e.g. "phantom:p0003"
  std::string name;        ///< relative file stem, e.g. "p0003/000"
};

struct PhantomImage {
  cv::Mat image;   ///< CV_32FC1 in [0, 1], height x width
  cv::Mat labels;  ///< CV_8UC1 with values 0, 1, 2
};

/// Every acquisition of the data set in (patient, order) order.
std::vector<PhantomEntry> phantom_plan(const PhantomOptions& options);

/// Renders one acquisition (deterministic; thread-safe).
PhantomImage render_phantom(const PhantomOptions& options, int patient, int order);

/// Writes the phantom as PNGs in a folder per patient (`<dir>/p0003/000.png` and
/// `<dir>/p0003/000_mask.png`) plus `<dir>/manifest.csv` with the manifest header
/// `path,patient_id,order,time,view,mask,left_mask,right_mask,split` (paths relative to `dir`).
/// Returns the manifest's path.
std::filesystem::path write_phantom_dataset(const std::filesystem::path& dir,
                                            const PhantomOptions& options);

/// The phantom as cache source records (rendered on demand; identities hash the options).
std::vector<SourceRecord> phantom_sources(const PhantomOptions& options);

}  // namespace cltci::data
