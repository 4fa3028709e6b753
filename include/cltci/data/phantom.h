// A synthetic longitudinal chest X-ray generator with exact lung label maps, so that every part
// of the toolkit (importers, cache, pretraining, fine-tuning, evaluation) runs and is tested
// without any real data. Images are PA views as displayed: dense = bright, so lungs are dark and
// bones / mediastinum bright. Labels: 0 background, 1 the patient's LEFT lung (on the image's
// RIGHT side), 2 the patient's right lung (image left).
//
// Each patient has their own anatomy; each acquisition of a patient changes pose, exposure,
// inspiration depth, devices and opacities, so that images of one patient are similar but not
// identical: the signal CL-TCI learns from.
//
// Two generators (docs/phantom.md): version 1, the original, kept pixel-identical for its caches
// and tests; version 2 (the default), a paediatric ICU model in which patients differ mainly in
// anatomy (age 0-18 years) and the films of one stay mainly in acquisition, lines and tubes that
// persist across the stay, and transient opacities, with acquisition times.
#pragma once

#include "cltci/data/dataset_cache.h"

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cltci::data {

/// The largest side a phantom film may have (real detectors: ~3,000 px).
inline constexpr int kMaxPhantomSide = 8192;
/// The generator versions, oldest to newest (docs/phantom.md); every version in between exists.
inline constexpr int kFirstPhantomVersion = 1;
inline constexpr int kLatestPhantomVersion = 2;

struct PhantomOptions {
  int version = kLatestPhantomVersion;  ///< 1 the original, 2 the paediatric ICU model
  std::uint64_t seed = 12345;  ///< every image is a pure function of (seed, patient, order)
  int patients = 60;           ///< number of patients
  int min_images = 1;          ///< images per patient lie in [min, max]: uniform (v1), or
  int max_images = 6;          ///< log-uniform, many short stays and a few long ones (v2)
  int width = 320;             ///< native size; non-square exercises the cache's padding
  int height = 288;
  double opacity_probability = 0.3;  ///< chance that an acquisition shows lung opacities
  double device_probability = 0.4;   ///< chance of tubes / wires / ECG electrodes (v2: of
                                     ///< each line or tube being in place at a film)
  /// v2: chance per film that each device is re-decided (removed, replaced or newly placed);
  /// otherwise it stays as on the previous film.
  double device_change_probability = 0.15;
  double noise = 0.02;                ///< quantum noise standard deviation (image units)
  std::string id_prefix = "phantom";  ///< patient ids are "<prefix>:p0001", ...
  int bits = 8;                       ///< PNG depth of export_phantom (8 or 16)

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
  double days = 0;         ///< v2: days since the patient's admission (0 in v1)
  std::string time;        ///< v2: ISO 8601 acquisition time, increasing with order (v1: empty)
};

struct PhantomImage {
  cv::Mat image;   ///< CV_32FC1 in [0, 1], height x width
  cv::Mat labels;  ///< CV_8UC1 with values 0, 1, 2
};

/// Every acquisition of the data set in (patient, order) order.
std::vector<PhantomEntry> phantom_plan(const PhantomOptions& options);

/// Renders one acquisition (deterministic; thread-safe).
PhantomImage render_phantom(const PhantomOptions& options, int patient, int order);

/// The phantom as cache source records (rendered on demand; identities hash the options).
std::vector<SourceRecord> phantom_sources(const PhantomOptions& options);

}  // namespace cltci::data
