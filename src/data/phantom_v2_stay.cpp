// Phantom version 2: the course of a paediatric ICU stay. How many films a patient gets, when,
// and which lines, tubes and lung opacities each film shows. The reasoning behind every number
// is in docs/phantom.md.
#include "cltci/common/seeding.h"
#include "data/civil_date.h"
#include "data/phantom_v2.h"
#include "data/random.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace cltci::data::detail {
namespace {

constexpr std::uint64_t kStayTag = 0x76327374ULL;     // "v2st"
constexpr std::uint64_t kAdmitTag = 0x7632616dULL;    // "v2am"
constexpr std::uint64_t kDeviceTag = 0x76326476ULL;   // "v2dv"
constexpr std::uint64_t kOpacityTag = 0x76326f70ULL;  // "v2op"
constexpr std::uint64_t kCountTag = 0x7632636eULL;    // "v2cn"

// Opacities (atelectasis, consolidation, oedema) come and go within days, lines and tubes stay
// for a week or more: half of the films redraw the opacity state.
constexpr double kOpacityChange = 0.5;

// Days from 1970-01-01 to 2016-01-01: admissions spread over the four years that follow.
constexpr long long kFirstAdmission = 16801;

// Stationary chance that each device is in place, relative to options.device_probability: most
// ventilated children also have a gastric tube and a central line; chest drains are rarer (after
// cardiac surgery or a pneumothorax); almost every ICU film shows monitoring electrodes.
double device_chance(const PhantomOptions& options, int device) {
  switch (static_cast<DeviceV2>(device)) {
    case DeviceV2::kChestDrain:
      return 0.4 * options.device_probability;
    case DeviceV2::kEcg:
      return std::min(1.0, 2.0 * options.device_probability);
    default:
      return options.device_probability;
  }
}

}  // namespace

std::uint64_t patient_seed_v2(const PhantomOptions& options,
                              std::uint64_t tag,
                              int patient,
                              std::uint64_t extra) {
  return common::derive_seed(options.seed, {tag, static_cast<std::uint64_t>(patient), extra});
}

std::vector<double> stay_days_v2(const PhantomOptions& options, int patient) {
  // Log-uniform counts: many short stays, a few long ones. Over [1, 120] this gives a mean of
  // about 25 films per patient, close to the paper's 3121 / 105 = 30.
  Rng count_rng(patient_seed_v2(options, kCountTag, patient));
  const double low = options.min_images;
  const double high = options.max_images + 1.0;
  const int count = std::min(
      options.max_images,
      static_cast<int>(std::floor(low * std::exp(count_rng.uniform() * std::log(high / low)))));

  // An admission film within hours, then mostly the daily morning film, some extra films after
  // a procedure (intubation, a new line) and longer gaps once the child is stable.
  Rng rng(patient_seed_v2(options, kStayTag, patient));
  std::vector<double> days;
  days.reserve(static_cast<std::size_t>(count));
  double t = rng.uniform(0.02, 0.5);
  for (int order = 0; order < count; ++order) {
    if (order > 0) {
      const double kind = rng.uniform();
      if (kind < 0.55) {
        t += rng.uniform(0.8, 1.2);
      } else if (kind < 0.80) {
        t += rng.uniform(0.05, 0.5);
      } else {
        t += rng.uniform(1.5, 6.0);
      }
    }
    days.push_back(t);
  }
  return days;
}

std::string acquisition_time_v2(const PhantomOptions& options, int patient, double days) {
  Rng rng(patient_seed_v2(options, kAdmitTag, patient));
  const double admission =
      static_cast<double>(kFirstAdmission + static_cast<long long>(rng.below(4 * 365))) +
      rng.uniform();
  // Whole minutes, rounded down: 0.05-day gaps (72 minutes) keep the text strictly increasing.
  const auto minutes = static_cast<long long>(std::floor((admission + days) * 1440.0));
  int year = 0, month = 0, day = 0;
  civil_from_days(minutes / 1440, year, month, day);
  const int minute_of_day = static_cast<int>(minutes % 1440);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:00", year, month, day,
                minute_of_day / 60, minute_of_day % 60);
  return text;
}

CourseV2 course_v2(const PhantomOptions& options, int patient, int order) {
  CourseV2 course;
  // A device is re-decided at each film with probability device_change_probability: it may be
  // removed, replaced (new geometry) or newly placed; otherwise it stays as it was.
  for (int device = 0; device < kDevicesV2; ++device) {
    Rng rng(patient_seed_v2(options, kDeviceTag, patient, static_cast<std::uint64_t>(device)));
    const double chance = device_chance(options, device);
    int placements = 0;
    int state = rng.chance(chance) ? placements++ : -1;
    for (int k = 1; k <= order; ++k) {
      if (rng.chance(options.device_change_probability)) {
        state = rng.chance(chance) ? placements++ : -1;
      }
    }
    course.device[static_cast<std::size_t>(device)] = state;
  }
  Rng rng(patient_seed_v2(options, kOpacityTag, patient));
  int episodes = 0;
  int state = rng.chance(options.opacity_probability) ? episodes++ : -1;
  for (int k = 1; k <= order; ++k) {
    if (rng.chance(kOpacityChange)) {
      state = rng.chance(options.opacity_probability) ? episodes++ : -1;
    }
  }
  course.opacity = state;
  return course;
}

}  // namespace cltci::data::detail
