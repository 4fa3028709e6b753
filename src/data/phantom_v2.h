// Private interface of phantom version 2, the paediatric ICU model (docs/phantom.md):
// phantom_v2_stay.cpp draws what happens during each patient's stay (how many acquisitions, when,
// which lines and tubes are in place, when the lungs show opacities); phantom_v2.cpp draws the
// patient's anatomy and renders one acquisition.
#pragma once

#include "cltci/data/phantom.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cltci::data::detail {

/// Lines and tubes that stay in place from one acquisition to the next.
enum class DeviceV2 : int {
  kEndotrachealTube = 0,
  kGastricTube,
  kCentralLine,
  kChestDrain,
  kEcg,
};
constexpr int kDevicesV2 = 5;

/// The state of a stay at one acquisition.
struct CourseV2 {
  /// Per device: -1 when absent, else the number of its placement; every new placement (a line
  /// replaced, a tube re-inserted) draws a new geometry, which then persists.
  std::array<int, kDevicesV2> device{};
  /// -1: clear lungs; else the number of the opacity episode (its pattern persists while it
  /// lasts, its extent and density change from image to image).
  int opacity = -1;
};

/// Random stream of one aspect of one patient (tags keep the streams independent).
std::uint64_t patient_seed_v2(const PhantomOptions& options,
                              std::uint64_t tag,
                              int patient,
                              std::uint64_t extra = 0);

/// Days since admission of each acquisition of `patient`: its size is the patient's number of
/// images (log-uniform in [min_images, max_images]), its values strictly increase.
std::vector<double> stay_days_v2(const PhantomOptions& options, int patient);

/// ISO 8601 time (YYYY-MM-DDThh:mm:00) of an acquisition `days` after the patient's admission.
std::string acquisition_time_v2(const PhantomOptions& options, int patient, double days);

/// Lines, tubes and opacities at acquisition `order` (a Markov chain over the stay).
CourseV2 course_v2(const PhantomOptions& options, int patient, int order);

/// Renders one acquisition of version 2 (deterministic; thread-safe).
PhantomImage render_phantom_v2(const PhantomOptions& options, int patient, int order);

}  // namespace cltci::data::detail
