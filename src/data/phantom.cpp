#include "cltci/data/phantom.h"

#include "cltci/common/error.h"
#include "cltci/data/acquisition_time.h"
#include "data/phantom_draw.h"
#include "data/phantom_v2.h"
#include "data/random.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

using detail::chaikin;
using detail::curve;
using detail::expose;
using detail::fill;
using detail::kLungTemplate;
using detail::kPi;
using detail::Polygon;
using detail::Pose;
using detail::Rng;
using detail::stroke;

// Bumped whenever the drawing changes, so caches of older phantoms are rebuilt.
constexpr std::uint64_t kPhantomVersion = 1;

struct LungShape {
  double width = 0;  // fraction of image width
  double apex = 0;   // apex y, fraction of height
  double base = 0;   // costophrenic angle y, fraction of height
  double dome = 0;   // diaphragm dome height, fraction of height
  std::array<std::array<double, 2>, kLungTemplate.size()> jitter{};
};

struct Anatomy {
  double body_half_width = 0;
  double mediastinum = 0;  // half width of the gap between the lungs
  LungShape image_left;    // the patient's right lung (label 2)
  LungShape image_right;   // the patient's left lung (label 1)
  cv::Point2d heart_centre;
  cv::Size2d heart_axes;
  double heart_angle = 0;
  int ribs = 0;
  double rib_spacing = 0;
  double rib_thickness = 0;
  double clavicle_y = 0;
  double spine_half_width = 0;
  double lung_darkness = 0;
};

struct Acquisition {
  double rotation_deg = 0, scale = 1, shift_x = 0, shift_y = 0;
  double inspiration = 0;  // fraction of height the diaphragm moves down
  double contrast = 1, gamma = 1, brightness = 0, noise = 0;
  bool devices = false;
  bool opacities = false;
};

Anatomy draw_anatomy(Rng& rng) {
  Anatomy a;
  a.body_half_width = rng.uniform(0.40, 0.48);
  a.mediastinum = rng.uniform(0.06, 0.085);
  const double width = rng.uniform(0.25, 0.30);
  const double asymmetry = rng.uniform(0.90, 1.03);  // the left lung is usually the narrower
  const double apex = rng.uniform(0.10, 0.15);
  const double base = rng.uniform(0.72, 0.79);
  for (LungShape* lung : {&a.image_left, &a.image_right}) {
    lung->width = width;
    lung->apex = apex + rng.uniform(-0.01, 0.01);
    lung->base = base;
    lung->dome = rng.uniform(0.05, 0.09);
    for (auto& j : lung->jitter) j = {rng.uniform(-0.03, 0.03), rng.uniform(-0.02, 0.02)};
  }
  a.image_right.width *= asymmetry;
  // The liver lifts the right hemidiaphragm.
  a.image_right.base += rng.uniform(0.01, 0.03);
  a.heart_centre = {0.5 + rng.uniform(0.03, 0.07), rng.uniform(0.60, 0.66)};
  a.heart_axes = {rng.uniform(0.14, 0.18), rng.uniform(0.12, 0.15)};
  a.heart_angle = rng.uniform(-20.0, -5.0);
  a.ribs = 9 + static_cast<int>(rng.below(2));
  a.rib_spacing = rng.uniform(0.065, 0.075);
  a.rib_thickness = rng.uniform(0.018, 0.024);
  a.clavicle_y = apex + rng.uniform(-0.01, 0.015);
  a.spine_half_width = rng.uniform(0.035, 0.045);
  a.lung_darkness = rng.uniform(0.34, 0.42);
  return a;
}

Acquisition draw_acquisition(Rng& rng, const PhantomOptions& options) {
  Acquisition q;
  q.rotation_deg = rng.uniform(-4.0, 4.0);
  q.scale = rng.uniform(0.95, 1.05);
  q.shift_x = rng.uniform(-0.04, 0.04);
  q.shift_y = rng.uniform(-0.03, 0.03);
  q.inspiration = rng.uniform(-0.035, 0.035);
  q.contrast = rng.uniform(0.8, 1.2);
  q.gamma = rng.uniform(0.8, 1.25);
  q.brightness = rng.uniform(-0.05, 0.05);
  q.noise = options.noise * rng.uniform(0.5, 1.5);
  q.devices = rng.chance(options.device_probability);
  q.opacities = rng.chance(options.opacity_probability);
  return q;
}

// Canonical (unposed) lung outline in pixels; `mirror` builds the image-right lung.
Polygon lung_outline(
    const LungShape& lung, const Anatomy& a, double inspiration, bool mirror, cv::Size size) {
  Polygon points;
  const double base = lung.base + inspiration;
  for (std::size_t i = 0; i < kLungTemplate.size(); ++i) {
    double u = kLungTemplate[i][0] + lung.jitter[i][0];
    double v = kLungTemplate[i][1] + lung.jitter[i][1];
    if (i >= 6 && i <= 9) v -= lung.dome / (base - lung.apex) * std::sin(kPi * (i - 5) / 5.0);
    const double medial = 0.5 - a.mediastinum;
    double x = medial - lung.width * (1.0 - u);
    if (mirror) x = 1.0 - x;
    const double y = lung.apex + v * (base - lung.apex);
    points.emplace_back(x * size.width, y * size.height);
  }
  return chaikin(points, 3);
}

Polygon heart_outline(const Anatomy& a, cv::Size size) {
  std::vector<cv::Point> integer;
  // ellipse2Poly works on integers: draw at 16x and scale back for sub-pixel precision.
  cv::ellipse2Poly(cv::Point(static_cast<int>(a.heart_centre.x * size.width * 16),
                             static_cast<int>(a.heart_centre.y * size.height * 16)),
                   cv::Size(static_cast<int>(a.heart_axes.width * size.width * 16),
                            static_cast<int>(a.heart_axes.height * size.height * 16)),
                   static_cast<int>(a.heart_angle), 0, 360, 8, integer);
  Polygon out;
  for (const cv::Point& p : integer) out.emplace_back(p.x / 16.0, p.y / 16.0);
  return out;
}

Polygon body_outline(const Anatomy& a, cv::Size size) {
  const double w = size.width, h = size.height;
  const double half = a.body_half_width;
  Polygon p{{(0.5 - half * 0.55) * w, -0.05 * h}, {(0.5 - half) * w, 0.10 * h},
            {(0.5 - half * 1.02) * w, 0.45 * h},  {(0.5 - half * 0.95) * w, 1.05 * h},
            {(0.5 + half * 0.95) * w, 1.05 * h},  {(0.5 + half * 1.02) * w, 0.45 * h},
            {(0.5 + half) * w, 0.10 * h},         {(0.5 + half * 0.55) * w, -0.05 * h}};
  return chaikin(p, 2);
}

std::string patient_folder(int patient) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "p%04d", patient);
  return buffer;
}

}  // namespace

void PhantomOptions::validate() const {
  std::vector<std::string> problems;
  if (version < kFirstPhantomVersion || version > kLatestPhantomVersion) {
    problems.push_back("phantom.version must be in [" + std::to_string(kFirstPhantomVersion) +
                       ", " + std::to_string(kLatestPhantomVersion) + "], got " +
                       std::to_string(version));
  }
  if (patients < 1)
    problems.push_back("phantom.patients must be >= 1, got " + std::to_string(patients));
  if (min_images < 1 || max_images < min_images) {
    problems.push_back(
        "phantom images per patient must satisfy 1 <= min_images <= max_images, got " +
        std::to_string(min_images) + ".." + std::to_string(max_images));
  }
  if (width < 32 || height < 32) {
    problems.push_back("phantom size must be at least 32x32, got " + std::to_string(height) + "x" +
                       std::to_string(width) + " (height x width)");
  }
  // Above this a film is a multi-gigabyte float image and rendering fails only after minutes.
  if (width > kMaxPhantomSide || height > kMaxPhantomSide) {
    problems.push_back(
        "phantom size (prepare --size H W, data.source.native_size) must be at most " +
        std::to_string(kMaxPhantomSide) + "x" + std::to_string(kMaxPhantomSide) + ", got " +
        std::to_string(height) + "x" + std::to_string(width) + " (height x width)");
  }
  if (opacity_probability < 0 || opacity_probability > 1 || device_probability < 0 ||
      device_probability > 1) {
    problems.push_back("phantom probabilities must lie in [0, 1]");
  }
  if (noise < 0) problems.push_back("phantom.noise must be >= 0");
  if (device_change_probability < 0 || device_change_probability > 1)
    problems.push_back("phantom.device_change_probability must lie in [0, 1]");
  if (bits != 8 && bits != 16)
    problems.push_back("phantom.bits must be 8 or 16, got " + std::to_string(bits));
  if (!problems.empty()) throw common::InputError(problems);
}

std::uint64_t PhantomOptions::fingerprint() const {
  std::ostringstream text;
  text.precision(17);
  text << kPhantomVersion << '|' << seed << '|' << patients << '|' << min_images << '|'
       << max_images << '|' << width << '|' << height << '|' << opacity_probability << '|'
       << device_probability << '|' << noise << '|' << id_prefix;
  // Version 1's text is exactly what it always was, so that its caches stay valid.
  if (version != 1) text << "|v" << version << '|' << device_change_probability;
  const std::string s = text.str();
  return detail::fnv1a(s.data(), s.size());
}

std::vector<PhantomEntry> phantom_plan(const PhantomOptions& options) {
  options.validate();
  std::vector<PhantomEntry> plan;
  for (int patient = 0; patient < options.patients; ++patient) {
    const std::string folder = patient_folder(patient);
    const std::string patient_id = options.id_prefix + ":" + folder;
    if (options.version == 2) {
      const std::vector<double> days = detail::stay_days_v2(options, patient);
      for (int order = 0; order < static_cast<int>(days.size()); ++order) {
        char stem[32];
        std::snprintf(stem, sizeof stem, "%s/%03d", folder.c_str(), order);
        const double day = days[static_cast<std::size_t>(order)];
        plan.push_back({patient, order, patient_id, stem, day,
                        detail::acquisition_time_v2(options, patient, day)});
      }
      continue;
    }
    Rng rng(
        common::derive_seed(options.seed, {0x706c616eULL, static_cast<std::uint64_t>(patient)}));
    const std::uint64_t choices = static_cast<std::uint64_t>(options.max_images) -
                                  static_cast<std::uint64_t>(options.min_images) + 1;
    const int count = options.min_images + static_cast<int>(rng.below(choices));
    for (int order = 0; order < count; ++order) {
      char stem[32];
      std::snprintf(stem, sizeof stem, "%s/%03d", folder.c_str(), order);
      plan.push_back({patient, order, patient_id, stem, 0.0, {}});
    }
  }
  return plan;
}

PhantomImage render_phantom(const PhantomOptions& options, int patient, int order) {
  if (options.version == 2) return detail::render_phantom_v2(options, patient, order);
  const cv::Size size(options.width, options.height);
  Rng anatomy_rng(
      common::derive_seed(options.seed, {0x616e6174ULL, static_cast<std::uint64_t>(patient)}));
  const Anatomy a = draw_anatomy(anatomy_rng);
  const std::uint64_t acquisition_seed = common::derive_seed(
      options.seed,
      {0x61637175ULL, static_cast<std::uint64_t>(patient), static_cast<std::uint64_t>(order)});
  Rng rng(acquisition_seed);
  const Acquisition q = draw_acquisition(rng, options);
  const Pose pose(q.rotation_deg, q.scale, q.shift_x, q.shift_y, size);
  const double w = size.width, h = size.height;
  const double unit = std::min(w, h);

  const Polygon lung_left_image = lung_outline(a.image_left, a, q.inspiration, false, size);
  const Polygon lung_right_image = lung_outline(a.image_right, a, q.inspiration, true, size);
  const Polygon heart = heart_outline(a, size);

  PhantomImage out;
  out.labels = cv::Mat::zeros(size, CV_8UC1);
  fill(out.labels, pose, lung_right_image, 1);  // patient's left lung on the image right
  fill(out.labels, pose, lung_left_image, 2);
  cv::Mat heart_mask = cv::Mat::zeros(size, CV_8UC1);
  fill(heart_mask, pose, heart, 1);
  out.labels.setTo(0, heart_mask);

  // Density layers (bright = dense), combined and blurred once so that edges look like a
  // projection and not like a cartoon, while the label map stays exact.
  cv::Mat density(size, CV_32FC1, cv::Scalar(0.03));
  fill(density, pose, body_outline(a, size), 0.55);
  cv::Mat structures = cv::Mat::zeros(size, CV_32FC1);
  // Spine and mediastinum.
  fill(structures, pose,
       {{(0.5 - a.spine_half_width) * w, 0.0},
        {(0.5 + a.spine_half_width) * w, 0.0},
        {(0.5 + a.spine_half_width) * w, h},
        {(0.5 - a.spine_half_width) * w, h}},
       0.22);
  // Ribs: posterior arcs from the spine, falling laterally.
  const double rib_thickness = a.rib_thickness * h;
  for (int i = 0; i < a.ribs; ++i) {
    const double y0 = (a.image_left.apex - 0.02 + i * a.rib_spacing) * h;
    for (const int side : {-1, 1}) {
      const double x_spine = 0.5 * w + side * a.spine_half_width * w;
      const double x_lateral = 0.5 * w + side * (a.mediastinum + a.image_left.width + 0.03) * w;
      stroke(structures, pose,
             curve({x_spine, y0}, {(x_spine + x_lateral) / 2, y0 - 0.03 * h},
                   {x_lateral, y0 + 0.09 * h}),
             0.16, rib_thickness);
    }
  }
  // Clavicles.
  for (const int side : {-1, 1}) {
    stroke(structures, pose,
           curve({0.5 * w + side * 0.04 * w, (a.clavicle_y + 0.03) * h},
                 {0.5 * w + side * 0.17 * w, (a.clavicle_y + 0.02) * h},
                 {0.5 * w + side * 0.33 * w, (a.clavicle_y - 0.04) * h}),
           0.22, 0.028 * h);
  }
  cv::Mat lungs_visible;
  out.labels.convertTo(lungs_visible, CV_32FC1);
  cv::threshold(lungs_visible, lungs_visible, 0.5, 1.0, cv::THRESH_BINARY);

  // Vascular texture: smooth noise, denser towards the hila.
  cv::Mat texture(std::max(4, size.height / 12), std::max(4, size.width / 12), CV_32FC1);
  cv::RNG texture_rng(common::mix64(acquisition_seed ^ 0x74657874ULL));
  texture_rng.fill(texture, cv::RNG::NORMAL, 0.0, 1.0);
  cv::resize(texture, texture, size, 0, 0, cv::INTER_CUBIC);
  cv::Mat hila = cv::Mat::zeros(size, CV_32FC1);
  for (const int side : {-1, 1}) {
    const cv::Point2d hilum = pose({0.5 * w + side * (a.mediastinum + 0.05) * w, 0.45 * h});
    cv::circle(hila, cv::Point(static_cast<int>(hilum.x), static_cast<int>(hilum.y)),
               static_cast<int>(0.07 * unit), cv::Scalar(1.0), cv::FILLED);
  }
  cv::GaussianBlur(hila, hila, cv::Size(), 0.06 * unit);
  cv::Mat lung_term = -a.lung_darkness + 0.035 * texture + 0.25 * hila;
  if (q.opacities) {
    cv::Mat blobs = cv::Mat::zeros(size, CV_32FC1);
    const int count = 1 + static_cast<int>(rng.below(3));
    for (int i = 0; i < count; ++i) {
      const bool right = rng.chance(0.5);
      const LungShape& lung = right ? a.image_right : a.image_left;
      const double x =
          0.5 + (right ? 1 : -1) * (a.mediastinum + lung.width * rng.uniform(0.2, 0.8));
      const double y = lung.apex + (lung.base - lung.apex) * rng.uniform(0.3, 0.85);
      const cv::Point2d c = pose({x * w, y * h});
      cv::circle(blobs, cv::Point(static_cast<int>(c.x), static_cast<int>(c.y)),
                 static_cast<int>(rng.uniform(0.03, 0.08) * unit),
                 cv::Scalar(rng.uniform(0.15, 0.3)), cv::FILLED);
    }
    cv::GaussianBlur(blobs, blobs, cv::Size(), 0.025 * unit);
    lung_term += blobs;
  }
  density += structures;
  density += lung_term.mul(lungs_visible);
  // The heart and the abdomen below the diaphragm are soft-tissue dense.
  cv::Mat heart_layer;
  heart_mask.convertTo(heart_layer, CV_32FC1, 0.13);
  density += heart_layer;
  const double sigma = std::max(0.6, 0.004 * unit);
  cv::GaussianBlur(density, density, cv::Size(), sigma);

  if (q.devices) {
    cv::Mat devices = cv::Mat::zeros(size, CV_32FC1);
    // A tube down the midline, ECG wires and electrodes.
    const double tube_x = 0.5 + rng.uniform(-0.02, 0.02);
    stroke(devices, pose,
           curve({tube_x * w, -0.02 * h}, {(tube_x + rng.uniform(-0.05, 0.05)) * w, 0.25 * h},
                 {(0.5 + rng.uniform(-0.03, 0.03)) * w, rng.uniform(0.35, 0.5) * h}),
           0.45, std::max(2.0, 0.008 * unit));
    const int electrodes = 2 + static_cast<int>(rng.below(3));
    for (int i = 0; i < electrodes; ++i) {
      const cv::Point2d e = pose({rng.uniform(0.2, 0.8) * w, rng.uniform(0.15, 0.85) * h});
      cv::circle(devices, cv::Point(static_cast<int>(e.x), static_cast<int>(e.y)),
                 std::max(2, static_cast<int>(0.015 * unit)), cv::Scalar(0.5), cv::FILLED);
      stroke(devices, Pose(0.0, 1.0, 0.0, 0.0, size),
             curve(e, {e.x + rng.uniform(-0.2, 0.2) * w, e.y + rng.uniform(0.1, 0.3) * h},
                   {rng.uniform(0.0, 1.0) * w, 1.02 * h}),
             0.3, 1.0);
    }
    cv::GaussianBlur(devices, devices, cv::Size(), 0.6);
    density += devices;
  }

  // Exposure: contrast about mid-grey, brightness, gamma, quantum noise.
  const cv::Mat image = expose(density, q.contrast, q.brightness, q.gamma, q.noise,
                               common::mix64(acquisition_seed ^ 0x6e6f6973ULL));
  out.image = image;
  return out;
}

std::vector<SourceRecord> phantom_sources(const PhantomOptions& options) {
  const std::vector<PhantomEntry> plan = phantom_plan(options);
  const std::string identity = "phantom:" + std::to_string(options.fingerprint()) + ":";
  std::vector<SourceRecord> records;
  records.reserve(plan.size());
  for (const PhantomEntry& entry : plan) {
    SourceRecord record;
    record.name = "phantom/" + entry.name;
    record.patient_id = entry.patient_id;
    record.order = entry.order;
    record.days = iso_to_days(entry.time);  // v1 has no times: NaN
    record.identity = identity + entry.name;
    record.load = [options, patient = entry.patient, order = entry.order] {
      PhantomImage phantom = render_phantom(options, patient, order);
      return SourceImage{std::move(phantom.image), std::move(phantom.labels)};
    };
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace cltci::data
