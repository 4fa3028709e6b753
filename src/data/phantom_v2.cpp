// Phantom version 2: a paediatric ICU chest film. Children of 0-18 years differ in anatomy (body
// and lung size, lung aspect, thymus, heart, ribs, spine, diaphragm, vascular pattern); the films
// of one child differ in acquisition (pose, inspiration, exposure, AP or PA, lines and tubes,
// transient opacities). docs/phantom.md gives the physical reasoning behind every range below.
//
// Coordinates: anatomy lives in fractions of the image (x of the width, y of the height) around
// the patient's midline; a thorax warp (scoliosis, rotation of the patient about the long axis)
// then moves mediastinal structures, and Pose places the result on the detector.
#include "data/phantom_v2.h"

#include "cltci/common/seeding.h"
#include "data/phantom_draw.h"
#include "data/random.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

namespace cltci::data::detail {
namespace {

constexpr std::uint64_t kAnatomyTag = 0x7632616eULL;       // "v2an"
constexpr std::uint64_t kAcquisitionTag = 0x76326171ULL;   // "v2aq"
constexpr std::uint64_t kTextureTag = 0x76327478ULL;       // "v2tx"
constexpr std::uint64_t kNoiseTag = 0x76326e73ULL;         // "v2ns"
constexpr std::uint64_t kDeviceShapeTag = 0x76326473ULL;   // "v2ds"
constexpr std::uint64_t kOpacityShapeTag = 0x76326f73ULL;  // "v2os"

// Side index 0 is the image left (the patient's right lung, label 2), 1 the image right (the
// patient's left lung, label 1); sign() is the direction away from the midline.
constexpr int kSides = 2;
double sign(int side) { return side == 0 ? -1.0 : 1.0; }
std::uint8_t label_of(int side) { return side == 0 ? 2 : 1; }

struct LungV2 {
  double medial = 0;   // midline to the medial border, fraction of width
  double lateral = 0;  // midline to the lateral border (inner rib margin)
  double apex = 0;     // y of the apex
  double base = 0;     // y of the costophrenic angle at mid inspiration
  double dome = 0;     // diaphragm dome above the costophrenic angle, fraction of height
  std::array<std::array<double, 2>, kLungTemplate.size()> jitter{};
};

// A pulmonary vessel in lung coordinates (u: 0 medial .. 1 lateral, v: 0 apex .. 1 base), so
// that it follows the lung through inspiration and pose.
struct Vessel {
  int side = 0;
  cv::Point2d from, control, to;
  double width = 0;  // fraction of min(width, height) at the hilum
};

struct AnatomyV2 {
  double age = 0;       // years
  double maturity = 0;  // age / 18
  double growth = 0;    // sqrt(maturity): body proportions change fastest in infancy
  double cx = 0.5;      // midline
  double thorax = 0;    // midline to the inner rib margin, fraction of width
  double chest_wall = 0;
  double apex = 0;
  double lung_height = 0;  // apex to costophrenic angle, fraction of height
  double mediastinum = 0;  // half width of the gap between the lungs
  std::array<LungV2, kSides> lungs;
  double heart_half_width = 0;   // fraction of width
  double heart_half_height = 0;  // fraction of height
  double heart_offset = 0;       // centre towards the patient's left, fraction of width
  double heart_lift = 0;         // lower border above the left dome, fraction of height
  double heart_angle = 0;        // degrees
  cv::Point2d atrium_offset;     // right atrial bulge: centre left of / above the ventricles'
  cv::Size2d atrium_axes;        // and its half axes, fractions of the heart's
  double thymus = 0;             // lateral extent beyond the mediastinum (0: involuted)
  std::array<bool, kSides> thymus_side{};
  double thymus_top = 0, thymus_length = 0;  // fractions of the lung height
  int ribs = 0;
  double rib_spacing = 0;    // fraction of the lung height
  double rib_drop = 0;       // lateral end below the medial one, fraction of height
  double rib_thickness = 0;  // fraction of the rib spacing
  double bone = 0;           // mineralisation: scales every bone density
  double spine_half = 0;     // fraction of width
  double scoliosis = 0;      // lateral deviation of the spine, fraction of width (signed)
  bool s_curve = false;
  bool spinal_rods = false;
  double clavicle = 0;  // clavicle height relative to the apex, fraction of the lung height
  double scapula_ap = 0, scapula_pa = 0;  // medial border of the scapula, fraction of thorax
  double soft_tissue = 0;
  double lung_darkness = 0;
  double vessel_strength = 0;
  int sternal_wires = 0;
  double ap_chance = 0;
  std::vector<Vessel> vessels;
};

struct AcquisitionV2 {
  bool ap = true;
  double rotation_deg = 0, scale = 1, shift_x = 0, shift_y = 0;
  double obliquity = 0;    // mediastinum shift of a rotated patient, fraction of width
  double inspiration = 0;  // diaphragm below its mid position, fraction of height
  double lordosis = 0;     // -1 .. 1: beam tilt; > 0 projects the clavicles above the apices
  double heart_magnification = 1;
  double contrast = 1, gamma = 1, brightness = 0, penetration = 1, noise = 0, blur = 1;
  bool arms_down = false;
  double gastric_bubble = 0;  // radius, fraction of the thorax (0: none)
};

double clamp(double value, double low, double high) { return std::min(high, std::max(low, value)); }

AnatomyV2 draw_anatomy(Rng& rng) {
  AnatomyV2 a;
  // PICU admissions are skewed young: 18 u^2 puts a third under 2 years, the median at 4.5.
  const double u = rng.uniform();
  a.age = 18.0 * u * u;
  a.maturity = a.age / 18.0;
  a.growth = std::sqrt(a.maturity);
  a.cx = 0.5 + rng.uniform(-0.015, 0.015);
  // Infants are collimated loosely (neck and abdomen in the field), adolescents tightly: the
  // thorax fills more of the film with age.
  a.thorax = (0.27 + 0.12 * a.growth) * rng.uniform(0.93, 1.07);
  // Lung height / thoracic width: an infant's chest is short and wide (0.65), an adult's tall
  // (0.9). Like version 1, the anatomy is drawn in fractions of the film and stretches with its
  // aspect ratio, which is the same for every film of a data set.
  const double ratio = (0.65 + 0.25 * a.maturity) * rng.uniform(0.92, 1.08);
  a.lung_height = ratio * 2.0 * a.thorax;
  a.apex = rng.uniform(0.07, 0.13) + 0.05 * (1.0 - a.growth);
  if (a.apex + a.lung_height > 0.84) {  // keep the costophrenic angles in the film
    const double shrink = (0.84 - a.apex) / a.lung_height;
    a.lung_height *= shrink;
    a.thorax *= shrink;
  }
  a.chest_wall = rng.uniform(0.02, 0.05) + 0.02 * a.growth;
  a.mediastinum = a.thorax * (rng.uniform(0.16, 0.22) + 0.03 * (1.0 - a.maturity));

  // The right hemidiaphragm sits higher (the liver); in some children one hemidiaphragm is
  // raised (phrenic palsy after cardiac surgery, eventration).
  const int palsy_side = rng.chance(0.08) ? static_cast<int>(rng.below(2)) : -1;
  const double palsy = rng.uniform(0.08, 0.18);
  for (int side = 0; side < kSides; ++side) {
    LungV2& lung = a.lungs[static_cast<std::size_t>(side)];
    lung.medial = a.mediastinum * rng.uniform(0.95, 1.05);
    lung.lateral = a.thorax * rng.uniform(0.96, 1.02);
    lung.apex = a.apex + rng.uniform(-0.01, 0.01) * a.lung_height;
    lung.base = a.apex + a.lung_height;
    lung.dome = a.lung_height * rng.uniform(0.10, 0.20);
    for (auto& j : lung.jitter) j = {rng.uniform(-0.04, 0.04), rng.uniform(-0.03, 0.03)};
    if (palsy_side == side) lung.base -= palsy * a.lung_height;
  }
  a.lungs[0].base -= rng.uniform(0.01, 0.04) * a.lung_height;

  // Cardiothoracic ratio: about 0.58 in infants, 0.46 in adolescents; congenital heart disease,
  // common on a PICU, enlarges it further.
  double ctr = 0.58 - 0.12 * a.maturity + 0.025 * rng.normal();
  if (rng.chance(0.15)) ctr += rng.uniform(0.06, 0.14);
  ctr = clamp(ctr, 0.40, 0.75);
  a.heart_half_width = ctr * a.thorax;
  // The infant heart lies horizontally (wider than tall); it becomes more upright with age.
  a.heart_half_height = a.heart_half_width * (rng.uniform(0.55, 0.68) + 0.12 * a.maturity);
  a.heart_offset = a.heart_half_width * rng.uniform(0.20, 0.40);
  a.heart_lift = rng.uniform(-0.02, 0.03) * a.lung_height;
  a.heart_angle = rng.uniform(-25.0, -8.0);
  // The right heart border (right atrium) bulges by a patient-specific amount: together with
  // the ventricles' tilt this gives the heart shapes of congenital heart disease (boot, egg).
  a.atrium_offset = {rng.uniform(0.55, 0.80), rng.uniform(0.05, 0.35)};
  a.atrium_axes = {rng.uniform(0.35, 0.55), rng.uniform(0.45, 0.70)};

  // The thymus fills the upper mediastinum of infants and involutes radiographically by about
  // three years; it bulges into one upper zone (the right "sail") or both.
  const double thymus = clamp(1.0 - a.age / 3.0, 0.0, 1.0) * rng.uniform(0.4, 1.2);
  if (thymus > 0.1) {
    a.thymus = thymus * (a.thorax - a.mediastinum) * rng.uniform(0.35, 0.6);
    const double which = rng.uniform();
    a.thymus_side = {which < 0.85, which >= 0.5};
    a.thymus_top = rng.uniform(0.05, 0.15);
    a.thymus_length = rng.uniform(0.25, 0.40) + 0.1 * thymus;
  }

  // Posterior ribs: 8-9 interspaces over the lung height in infants, 9-10 later; infant ribs
  // run horizontally, adult ribs slope down laterally.
  a.rib_spacing = 1.0 / (8.3 + 1.5 * a.maturity + rng.uniform(-0.4, 0.4));
  // From the first rib at the apex to the one whose medial end meets the costophrenic level.
  a.ribs = static_cast<int>(std::ceil(1.0 / a.rib_spacing)) + 1;
  a.rib_drop = a.thorax * (0.12 + 0.30 * a.maturity) * rng.uniform(0.8, 1.2);
  a.rib_thickness = rng.uniform(0.30, 0.40);
  a.bone = (0.75 + 0.25 * a.maturity) * rng.uniform(0.9, 1.1);
  a.spine_half = a.thorax * rng.uniform(0.10, 0.13);
  // Scoliosis in children with neuromuscular disease, a frequent PICU population.
  if (rng.chance(0.15)) {
    a.scoliosis = a.thorax * rng.uniform(0.08, 0.30) * (rng.chance(0.5) ? 1.0 : -1.0);
    a.s_curve = rng.chance(0.35);
    a.spinal_rods = a.age > 9.0 && rng.chance(0.4);
  }
  a.clavicle = rng.uniform(-0.02, 0.06);
  a.scapula_ap = rng.uniform(0.55, 0.72);
  a.scapula_pa = rng.uniform(0.92, 1.02);
  // Habitus: soft-tissue thickness sets the body's density and, through scatter, how dark the
  // aerated lung looks against it.
  a.soft_tissue = rng.uniform(0.46, 0.58);
  a.lung_darkness = rng.uniform(0.24, 0.40);
  a.vessel_strength = rng.uniform(0.7, 1.3);  // oligaemia .. plethora (shunts)
  a.sternal_wires = rng.chance(0.12) ? 4 + static_cast<int>(rng.below(3)) : 0;
  // Infants are filmed supine AP; older children sometimes erect PA.
  a.ap_chance = 0.95 - 0.35 * a.maturity;

  // The vascular tree: a few branches from each hilum, each with one side branch; fixed for the
  // patient, as are their vessels.
  for (int side = 0; side < kSides; ++side) {
    const int branches = 6 + static_cast<int>(rng.below(5));
    const cv::Point2d hilum(0.12 + rng.uniform(-0.03, 0.03), 0.45 + rng.uniform(-0.05, 0.05));
    for (int b = 0; b < branches; ++b) {
      const double angle = rng.uniform(-1.9, 1.9);  // about the lateral direction
      const double length = rng.uniform(0.5, 0.9);
      const cv::Point2d to(clamp(hilum.x + length * std::cos(angle), 0.05, 0.95),
                           clamp(hilum.y + 0.8 * length * std::sin(angle), 0.04, 0.92));
      const cv::Point2d middle = 0.5 * (hilum + to);
      const cv::Point2d bend(rng.uniform(-0.12, 0.12), rng.uniform(-0.12, 0.12));
      const double width = rng.uniform(0.008, 0.014);
      a.vessels.push_back({side, hilum, middle + bend, to, width});
      const double child_angle = angle + rng.uniform(0.35, 0.8) * (rng.chance(0.5) ? 1 : -1);
      const double child_length = 0.5 * length * rng.uniform(0.6, 1.0);
      const cv::Point2d child_to(
          clamp(middle.x + child_length * std::cos(child_angle), 0.05, 0.95),
          clamp(middle.y + 0.8 * child_length * std::sin(child_angle), 0.04, 0.92));
      a.vessels.push_back(
          {side, middle + 0.5 * bend, 0.5 * (middle + child_to), child_to, 0.6 * width});
    }
  }
  return a;
}

AcquisitionV2 draw_acquisition(Rng& rng, const AnatomyV2& a, const PhantomOptions& options) {
  AcquisitionV2 q;
  q.ap = rng.chance(a.ap_chance);
  // Portable films in the same bed with the same unit: version 1's centring and distance
  // ranges; infants, who cannot be held still, rotate more.
  q.rotation_deg = clamp((2.0 + 1.0 * (1.0 - a.maturity)) * rng.normal(), -6.0, 6.0);
  q.scale = rng.uniform(0.95, 1.05);
  q.shift_x = rng.uniform(-0.04, 0.04);
  q.shift_y = rng.uniform(-0.03, 0.03);
  q.obliquity = a.thorax * rng.uniform(-0.08, 0.08);
  // Shallow breaths, ventilator phase and PEEP: the diaphragm moves over about a rib space.
  q.inspiration = a.lung_height * clamp(0.06 * rng.normal(), -0.14, 0.09);
  q.lordosis = q.ap ? rng.uniform(-1.0, 1.0) : rng.uniform(-0.3, 0.3);
  // AP: the heart lies further from the detector and is magnified.
  q.heart_magnification = q.ap ? rng.uniform(1.04, 1.10) : 1.0;
  // Digital radiography normalises the displayed exposure: version 1's ranges.
  q.contrast = rng.uniform(0.8, 1.2);
  q.gamma = rng.uniform(0.8, 1.25);
  q.brightness = rng.uniform(-0.05, 0.05);
  // Higher kVp or more scatter flattens the lung / soft-tissue contrast.
  q.penetration = rng.uniform(0.8, 1.1);
  q.noise = options.noise * rng.uniform(0.5, 2.0);
  q.blur = rng.uniform(1.0, 2.2);  // motion of a child who does not hold their breath
  q.arms_down = rng.chance(0.2);   // usually raised out of the field
  q.gastric_bubble = rng.chance(0.7) ? rng.uniform(0.06, 0.22) : 0.0;
  return q;
}

// The thorax as projected in one acquisition: anatomy + acquisition -> canonical pixels (before
// Pose).
class Thorax {
 public:
  Thorax(const AnatomyV2& a, const AcquisitionV2& q, cv::Size size) : a_(a), q_(q), size_(size) {}

  // Lateral displacement of the spine at height y (fraction of height).
  double spine_shift(double y) const {
    const double t = (y - (a_.apex - 0.05)) / (a_.lung_height + 0.15);
    if (t <= 0 || t >= 1) return 0;
    return a_.scoliosis * std::sin((a_.s_curve ? 2.0 : 1.0) * kPi * t);
  }
  // Fractions -> canonical pixels. Mediastinal structures follow the spine's curve and the
  // patient's rotation; the chest wall stays, so the lung on the convex side is stretched.
  cv::Point2d to_pixels(cv::Point2d p, bool warp = true) const {
    if (warp) {
      const double weight = std::max(0.0, 1.0 - std::abs(p.x - a_.cx) / (1.3 * a_.thorax));
      p.x += (spine_shift(p.y) + q_.obliquity) * weight;
    }
    return {p.x * size_.width, p.y * size_.height};
  }
  Polygon place(const Polygon& fractions, bool warp = true) const {
    Polygon out;
    out.reserve(fractions.size());
    for (const cv::Point2d& p : fractions) out.push_back(to_pixels(p, warp));
    return out;
  }
  // Costophrenic angle of a lung in this acquisition.
  double base(int side) const { return lung(side).base + q_.inspiration; }
  const LungV2& lung(int side) const { return a_.lungs[static_cast<std::size_t>(side)]; }
  // A point in lung coordinates (u: 0 medial .. 1 lateral, v: 0 apex .. 1 base), in fractions.
  cv::Point2d lung_point(int side, double u, double v) const {
    const LungV2& l = lung(side);
    return {a_.cx + sign(side) * (l.medial + (l.lateral - l.medial) * u),
            l.apex + v * (base(side) - 0.5 * l.dome - l.apex)};
  }
  Polygon lung_outline(int side) const {
    const LungV2& l = lung(side);
    const double b = base(side);
    Polygon points;
    for (std::size_t i = 0; i < kLungTemplate.size(); ++i) {
      const double u = kLungTemplate[i][0] + l.jitter[i][0];
      double v = kLungTemplate[i][1] + l.jitter[i][1];
      if (i >= 6 && i <= 9) v -= l.dome / (b - l.apex) * std::sin(kPi * (i - 5) / 5.0);
      points.emplace_back(a_.cx + sign(side) * (l.medial + (l.lateral - l.medial) * (1.0 - u)),
                          l.apex + v * (b - l.apex));
    }
    return place(chaikin(points, 3));
  }
  // Ventricles and the right atrium, as two outlines to fill.
  std::vector<Polygon> heart_outlines() const {
    // The heart rests on the left hemidiaphragm and follows it part of the way.
    const LungV2& left = lung(1);
    const double bottom = left.base + 0.7 * q_.inspiration - left.dome - a_.heart_lift;
    const double m = q_.heart_magnification;
    const double rx = a_.heart_half_width * m, ry = a_.heart_half_height * m;
    const cv::Point2d centre(a_.cx + a_.heart_offset, bottom - 0.8 * ry);
    const cv::Point2d atrium(centre.x - a_.atrium_offset.x * rx,
                             centre.y - a_.atrium_offset.y * ry);
    return {
        place(tilted_ellipse(centre, rx, ry, a_.heart_angle)),
        place(tilted_ellipse(atrium, a_.atrium_axes.width * rx, a_.atrium_axes.height * ry, 0.0))};
  }
  std::vector<Polygon> thymus_outlines() const {
    std::vector<Polygon> out;
    if (a_.thymus <= 0) return out;
    for (int side = 0; side < kSides; ++side) {
      if (!a_.thymus_side[static_cast<std::size_t>(side)]) continue;
      const double s = sign(side);
      const double m = a_.cx + s * 0.9 * a_.mediastinum;
      const double y0 = a_.apex + a_.thymus_top * a_.lung_height;
      const double h = a_.thymus_length * a_.lung_height;
      const double e = a_.thymus;
      out.push_back(place(chaikin({{m, y0},
                                   {m + s * 0.55 * e, y0 + 0.25 * h},
                                   {m + s * e, y0 + 0.8 * h},
                                   {m + s * 0.5 * e, y0 + 0.95 * h},
                                   {m, y0 + h}},
                                  2)));
    }
    return out;
  }

 private:
  // An ellipse tilted in pixels (not in fractions, which the film's aspect ratio would shear).
  Polygon tilted_ellipse(cv::Point2d centre, double rx, double ry, double degrees) const {
    const double w = size_.width, h = size_.height;
    const double angle = degrees * kPi / 180.0;
    Polygon points;
    for (int i = 0; i < 48; ++i) {
      const double t = 2.0 * kPi * i / 48.0;
      const double dx = rx * w * std::cos(t), dy = ry * h * std::sin(t);
      points.emplace_back(centre.x + (dx * std::cos(angle) - dy * std::sin(angle)) / w,
                          centre.y + (dx * std::sin(angle) + dy * std::cos(angle)) / h);
    }
    return points;
  }

  const AnatomyV2& a_;
  const AcquisitionV2& q_;
  cv::Size size_;
};

// Subdivides a polyline (or the edges of a polygon) so that the thorax warp bends it smoothly.
Polygon densify(const Polygon& points, int steps, bool closed) {
  Polygon out;
  const std::size_t n = points.size();
  const std::size_t edges = closed ? n : n - 1;
  for (std::size_t i = 0; i < edges; ++i) {
    const cv::Point2d& p = points[i];
    const cv::Point2d& q = points[(i + 1) % n];
    for (int k = 0; k < steps; ++k) out.push_back(p + (q - p) * (static_cast<double>(k) / steps));
  }
  if (!closed) out.push_back(points.back());
  return out;
}

Polygon ellipse(cv::Point2d centre, double rx, double ry, int steps = 32) {
  Polygon out;
  for (int i = 0; i < steps; ++i) {
    const double t = 2.0 * kPi * i / steps;
    out.emplace_back(centre.x + rx * std::cos(t), centre.y + ry * std::sin(t));
  }
  return out;
}

cv::Mat as_float(const cv::Mat& mask) {
  cv::Mat out;
  mask.convertTo(out, CV_32FC1, 1.0 / 255.0);
  return out;
}

// Lines and tubes; the geometry comes from the placement's own stream, so it persists while the
// device stays, and moves a little from film to film (`jitter`).
void draw_devices(cv::Mat& devices,
                  const CourseV2& course,
                  const AnatomyV2& a,
                  const Thorax& thorax,
                  const Pose& pose,
                  const PhantomOptions& options,
                  int patient,
                  Rng& jitter,
                  double unit) {
  const double t = a.thorax, hl = a.lung_height;
  const double size_scale = 0.7 + 0.3 * a.growth;  // smaller tubes in smaller children
  for (int device = 0; device < kDevicesV2; ++device) {
    const int placement = course.device[static_cast<std::size_t>(device)];
    if (placement < 0) continue;
    Rng rng(patient_seed_v2(options, kDeviceShapeTag + static_cast<std::uint64_t>(device), patient,
                            static_cast<std::uint64_t>(placement)));
    const auto wiggle = [&](double amount) { return jitter.uniform(-amount, amount); };
    switch (static_cast<DeviceV2>(device)) {
      case DeviceV2::kEndotrachealTube: {
        // Down the trachea; the tip moves with neck flexion.
        const double x = a.cx + rng.uniform(-0.01, 0.01);
        const double tip = a.apex + (rng.uniform(0.12, 0.30) + wiggle(0.03)) * hl;
        stroke(devices, pose,
               thorax.place(curve({x, -0.03}, {x + rng.uniform(-0.02, 0.02), 0.5 * tip},
                                  {a.cx + rng.uniform(-0.01, 0.01), tip})),
               0.28, 0.012 * unit * size_scale);
        break;
      }
      case DeviceV2::kGastricTube: {
        // Behind the heart, through the diaphragm into the stomach under the left dome.
        const cv::Point2d end(a.cx + t * rng.uniform(0.3, 0.6),
                              thorax.base(1) + rng.uniform(0.03, 0.10));
        stroke(devices, pose,
               thorax.place(curve({a.cx + rng.uniform(-0.02, 0.01), -0.03},
                                  {a.cx + 0.02 + wiggle(0.01), a.apex + 0.6 * hl}, end, 32)),
               0.38, 0.005 * unit * size_scale);
        break;
      }
      case DeviceV2::kCentralLine: {
        // Right internal jugular, subclavian, or (neonates) umbilical venous: tip near the
        // right atrium.
        const double kind = rng.uniform();
        const cv::Point2d tip(a.cx - t * rng.uniform(0.02, 0.12),
                              a.apex + (rng.uniform(0.30, 0.48) + wiggle(0.02)) * hl);
        Polygon line;
        if (kind < 0.55) {
          line = curve({a.cx - t * rng.uniform(0.25, 0.4), -0.03},
                       {a.cx - 0.2 * t, a.apex + 0.1 * hl}, tip);
        } else if (kind < 0.8 || a.age > 1.0) {
          const double s = rng.chance(0.7) ? -1.0 : 1.0;
          line = curve({a.cx + s * 1.1 * t, a.apex + 0.05 * hl}, {a.cx + s * 0.4 * t, a.apex}, tip);
        } else {
          line = curve({a.cx - 0.05 * t, 1.03}, {a.cx - 0.25 * t, thorax.base(0) + 0.05}, tip);
        }
        stroke(devices, pose, thorax.place(line), 0.35, 0.0045 * unit * size_scale);
        break;
      }
      case DeviceV2::kChestDrain: {
        // From the lateral chest wall up into the pleural space: it crosses the lung border.
        const double s = rng.chance(0.5) ? -1.0 : 1.0;
        const cv::Point2d entry(a.cx + s * (t + a.chest_wall),
                                a.apex + rng.uniform(0.45, 0.8) * hl);
        const cv::Point2d tip(a.cx + s * t * rng.uniform(0.3, 0.7),
                              a.apex + rng.uniform(0.08, 0.30) * hl);
        stroke(devices, pose,
               thorax.place(
                   curve(entry, {a.cx + s * t * rng.uniform(0.7, 0.9), a.apex + 0.3 * hl}, tip)),
               0.30, 0.011 * unit * size_scale);
        stroke(devices, pose,
               thorax.place(
                   curve(entry, {entry.x + s * 0.08, entry.y + 0.05}, {entry.x + s * 0.15, 1.03})),
               0.25, 0.011 * unit * size_scale);
        break;
      }
      case DeviceV2::kEcg: {
        const int electrodes = 3 + static_cast<int>(rng.below(3));
        for (int i = 0; i < electrodes; ++i) {
          const cv::Point2d e(a.cx + rng.uniform(-1.2, 1.2) * t + wiggle(0.01),
                              a.apex + rng.uniform(-0.1, 1.05) * hl + wiggle(0.01));
          const cv::Point2d end(rng.uniform(0.0, 1.0), 1.03);
          fill(devices, pose,
               thorax.place(
                   ellipse(e, 0.016 * unit / devices.cols, 0.016 * unit / devices.rows, 16), false),
               0.45);
          stroke(devices, pose,
                 thorax.place(
                     curve(e, {e.x + rng.uniform(-0.2, 0.2), e.y + rng.uniform(0.1, 0.3)}, end),
                     false),
                 0.3, 1.0);
        }
        break;
      }
    }
  }
}

// Lung opacities of the current episode, as density added inside the lungs (they stay lung in
// the label map): lobar consolidation or atelectasis, diffuse haze, or patchy foci.
cv::Mat draw_opacities(const CourseV2& course,
                       const AnatomyV2& a,
                       const Thorax& thorax,
                       const Pose& pose,
                       const cv::Mat& labels,
                       const PhantomOptions& options,
                       int patient,
                       Rng& jitter,
                       double darkness,
                       double unit) {
  cv::Mat out = cv::Mat::zeros(labels.size(), CV_32FC1);
  if (course.opacity < 0) return out;
  Rng rng(patient_seed_v2(options, kOpacityShapeTag, patient,
                          static_cast<std::uint64_t>(course.opacity)));
  const double kind = rng.uniform();
  const double intensity = jitter.uniform(0.6, 1.15);  // evolving from film to film
  if (kind < 0.45) {
    // Lobar: a lower zone (hiding the diaphragm: silhouette sign) or an upper zone (right upper
    // lobe collapse of the intubated infant), up to a fissure-like oblique edge.
    const int side = static_cast<int>(rng.below(2));
    const double s = sign(side);
    const bool lower = rng.chance(0.6);
    const double cut =
        (lower ? rng.uniform(0.45, 0.70) : rng.uniform(0.30, 0.50)) + jitter.uniform(-0.05, 0.05);
    const double slope = rng.uniform(-0.08, 0.08);
    const LungV2& l = thorax.lung(side);
    const double y_cut = l.apex + cut * (thorax.base(side) - l.apex);
    const double x_medial = a.cx + s * 0.5 * l.medial;
    const double x_lateral = a.cx + s * (l.lateral + 0.15);
    const double far = lower ? 1.2 : -0.2;
    cv::Mat region = cv::Mat::zeros(labels.size(), CV_32FC1);
    fill(region, pose,
         thorax.place(densify({{x_medial, y_cut - slope * a.lung_height},
                               {x_lateral, y_cut + slope * a.lung_height},
                               {x_lateral, far},
                               {x_medial, far}},
                              12, true)),
         1.0);
    cv::GaussianBlur(region, region, cv::Size(), 0.025 * unit);
    const double density = rng.uniform(0.6, 1.05) * darkness * intensity;
    out += region.mul(as_float(labels == label_of(side))) * density;
  } else if (kind < 0.75) {
    // Diffuse (ARDS, oedema, layering effusion in a supine film): both lungs or one, denser
    // towards the bases.
    const int sides = rng.chance(0.7) ? 2 : 1;
    const int first = sides == 2 ? 0 : static_cast<int>(rng.below(2));
    const double density = rng.uniform(0.3, 0.7) * darkness * intensity;
    cv::Mat ramp(labels.size(), CV_32FC1);
    const double top = a.apex * labels.rows, span = a.lung_height * labels.rows;
    for (int y = 0; y < ramp.rows; ++y) {
      ramp.row(y).setTo(0.65 + 0.35 * clamp((y - top) / span, 0.0, 1.0));
    }
    for (int side = first; side < first + sides; ++side) {
      out += ramp.mul(as_float(labels == label_of(side))) * density;
    }
  } else {
    // Patchy bronchopneumonia: a few foci.
    cv::Mat blobs = cv::Mat::zeros(labels.size(), CV_32FC1);
    const int count = 2 + static_cast<int>(rng.below(5));
    for (int i = 0; i < count; ++i) {
      const int side = static_cast<int>(rng.below(2));
      const cv::Point2d c = pose(thorax.to_pixels(
          thorax.lung_point(side, rng.uniform(0.15, 0.9), rng.uniform(0.1, 0.95))));
      const double radius = rng.uniform(0.03, 0.09) * unit * jitter.uniform(0.8, 1.2);
      cv::circle(blobs, cv::Point(static_cast<int>(c.x), static_cast<int>(c.y)),
                 std::max(1, static_cast<int>(radius)),
                 cv::Scalar(rng.uniform(0.3, 0.8) * darkness * intensity), cv::FILLED);
    }
    cv::GaussianBlur(blobs, blobs, cv::Size(), 0.025 * unit);
    out += blobs.mul(as_float(labels > 0));
  }
  return out;
}

}  // namespace

PhantomImage render_phantom_v2(const PhantomOptions& options, int patient, int order) {
  const cv::Size size(options.width, options.height);
  const double w = size.width, h = size.height;
  const double unit = std::min(w, h);
  Rng anatomy_rng(patient_seed_v2(options, kAnatomyTag, patient));
  const AnatomyV2 a = draw_anatomy(anatomy_rng);
  Rng rng(patient_seed_v2(options, kAcquisitionTag, patient, static_cast<std::uint64_t>(order)));
  const AcquisitionV2 q = draw_acquisition(rng, a, options);
  const CourseV2 course = course_v2(options, patient, order);
  const Pose pose(q.rotation_deg, q.scale, q.shift_x, q.shift_y, size);
  const Thorax thorax(a, q, size);
  const double t = a.thorax, hl = a.lung_height;

  // Label map: the aerated lungs as a radiologist outlines them, without the heart and thymus
  // shadows.
  PhantomImage out;
  out.labels = cv::Mat::zeros(size, CV_8UC1);
  for (int side = 0; side < kSides; ++side) {
    fill(out.labels, pose, thorax.lung_outline(side), label_of(side));
  }
  cv::Mat mediastinal = cv::Mat::zeros(size, CV_8UC1);
  for (const Polygon& part : thorax.heart_outlines()) fill(mediastinal, pose, part, 255);
  cv::Mat thymus = cv::Mat::zeros(size, CV_8UC1);
  for (const Polygon& lobe : thorax.thymus_outlines()) fill(thymus, pose, lobe, 255);
  out.labels.setTo(0, mediastinal);
  out.labels.setTo(0, thymus);
  const cv::Mat lungs_visible = as_float(out.labels > 0);

  // Density layers (bright = dense), blurred once like a projection; the label map stays exact.
  cv::Mat density(size, CV_32FC1, cv::Scalar(0.03));
  const double half = t + a.chest_wall;
  Polygon body{{a.cx - 0.45 * half, -0.05},         {a.cx - 0.5 * half, a.apex - 0.06},
               {a.cx - 1.05 * half, a.apex + 0.02}, {a.cx - half, a.apex + 0.5 * hl},
               {a.cx - 0.97 * half, 1.05},          {a.cx + 0.97 * half, 1.05},
               {a.cx + half, a.apex + 0.5 * hl},    {a.cx + 1.05 * half, a.apex + 0.02},
               {a.cx + 0.5 * half, a.apex - 0.06},  {a.cx + 0.45 * half, -0.05}};
  fill(density, pose, thorax.place(chaikin(body, 2), false), a.soft_tissue);
  if (q.arms_down) {
    for (int side = 0; side < kSides; ++side) {
      const double s = sign(side);
      const double inner = a.cx + s * (1.07 * half + 0.015);
      const double outer = inner + s * 0.45 * t;
      fill(density, pose,
           thorax.place(
               chaikin({{inner, a.apex + 0.05}, {outer, a.apex}, {outer, 1.05}, {inner, 1.05}}, 2),
               false),
           a.soft_tissue * 0.9);
    }
  }
  cv::Mat structures = cv::Mat::zeros(size, CV_32FC1);
  // Spine: a band along the (possibly curved) midline.
  {
    Polygon spine;
    const int steps = 40;
    for (int i = 0; i <= steps; ++i) {
      const double y = -0.05 + 1.1 * i / steps;
      spine.emplace_back(a.cx + thorax.spine_shift(y) - 0.3 * q.obliquity - a.spine_half, y);
    }
    for (int i = steps; i >= 0; --i) {
      const double y = -0.05 + 1.1 * i / steps;
      spine.emplace_back(a.cx + thorax.spine_shift(y) - 0.3 * q.obliquity + a.spine_half, y);
    }
    fill(structures, pose, thorax.place(spine, false), (0.14 + 0.08 * a.maturity) * a.bone);
  }
  // Posterior ribs: arcs from the spine falling laterally; deeper inspiration spreads them, a
  // lordotic projection flattens them.
  const double spacing = a.rib_spacing * (hl + 0.6 * q.inspiration);
  const double drop = a.rib_drop * (1.0 - 0.35 * q.lordosis);
  for (int i = 0; i < a.ribs; ++i) {
    const double y0 = a.apex - 0.02 + i * spacing;
    for (int side = 0; side < kSides; ++side) {
      const double s = sign(side);
      // The warp moves the medial end with the spine's curve; a rotated patient's spine moves
      // against the mediastinum.
      const double x_spine = a.cx + s * a.spine_half - 1.3 * q.obliquity;
      const double x_lateral = a.cx + s * (t + 0.3 * a.chest_wall);
      stroke(structures, pose,
             thorax.place(curve({x_spine, y0}, {0.5 * (x_spine + x_lateral), y0 - 0.35 * drop},
                                {x_lateral, y0 + drop})),
             (0.11 + 0.05 * a.maturity) * a.bone, a.rib_thickness * spacing * h);
    }
  }
  // Clavicles: projected above the apices by a lordotic AP film.
  const double clavicle_y = a.apex + (a.clavicle - 0.06 * q.lordosis) * hl;
  for (int side = 0; side < kSides; ++side) {
    const double s = sign(side);
    stroke(structures, pose,
           thorax.place(curve({a.cx + s * 0.1 * t, clavicle_y + 0.03},
                              {a.cx + s * 0.5 * t, clavicle_y + 0.02},
                              {a.cx + s * 1.05 * t, clavicle_y - 0.04})),
           0.18 * a.bone, 0.025 * h * (0.6 + 0.4 * a.growth));
    // Scapulae: over the lateral lung in an AP film, rotated out of it in a PA film.
    const double medial = a.cx + s * t * (q.ap ? a.scapula_ap : a.scapula_pa);
    const double lateral = a.cx + s * half;
    fill(structures, pose,
         thorax.place(chaikin({{medial, a.apex + 0.05 * hl},
                               {lateral, a.apex - 0.02},
                               {lateral, a.apex + 0.45 * hl},
                               {medial + s * 0.1 * t, a.apex + 0.6 * hl}},
                              2)),
         0.06 * a.bone);
  }
  // Gas in the stomach under the left hemidiaphragm: a lucency next to the lung base.
  if (q.gastric_bubble > 0) {
    const double rx = q.gastric_bubble * t;
    const double ry = 0.7 * rx;
    const LungV2& left = thorax.lung(1);
    const cv::Point2d centre(a.cx + 0.45 * t, thorax.base(1) - 0.85 * left.dome + 0.012 + ry);
    cv::Mat bubble = cv::Mat::zeros(size, CV_32FC1);
    fill(bubble, pose, thorax.place(ellipse(centre, rx, ry)), 0.22);
    structures -= bubble.mul(1.0 - lungs_visible);
  }

  // Lungs: air, the patient's vascular tree and fine texture, hila, opacities.
  const double darkness = a.lung_darkness * q.penetration;
  cv::Mat vessels = cv::Mat::zeros(size, CV_32FC1);
  for (const Vessel& v : a.vessels) {
    const Polygon path = curve(thorax.lung_point(v.side, v.from.x, v.from.y),
                               thorax.lung_point(v.side, v.control.x, v.control.y),
                               thorax.lung_point(v.side, v.to.x, v.to.y), 12);
    // Tapering: three segments of decreasing calibre.
    for (int part = 0; part < 3; ++part) {
      const Polygon segment(path.begin() + part * 4, path.begin() + part * 4 + 5);
      stroke(vessels, pose, thorax.place(segment), 0.05 * a.vessel_strength * (1.0 - 0.25 * part),
             v.width * unit * (1.0 - 0.3 * part));
    }
  }
  cv::Mat texture(std::max(4, size.height / 12), std::max(4, size.width / 12), CV_32FC1);
  cv::RNG texture_rng(common::mix64(patient_seed_v2(options, kTextureTag, patient)));
  texture_rng.fill(texture, cv::RNG::NORMAL, 0.0, 1.0);
  cv::resize(texture, texture, size, 0, 0, cv::INTER_CUBIC);
  cv::warpAffine(texture, texture, cv::Mat(pose.matrix()), size, cv::INTER_LINEAR,
                 cv::BORDER_REFLECT_101);
  cv::Mat hila = cv::Mat::zeros(size, CV_32FC1);
  for (int side = 0; side < kSides; ++side) {
    const cv::Point2d hilum = pose(thorax.to_pixels(thorax.lung_point(side, 0.1, 0.45)));
    cv::circle(hila, cv::Point(static_cast<int>(hilum.x), static_cast<int>(hilum.y)),
               static_cast<int>(0.06 * unit * (0.7 + 0.3 * a.growth)), cv::Scalar(1.0), cv::FILLED);
  }
  cv::GaussianBlur(hila, hila, cv::Size(), 0.05 * unit);
  cv::Mat lung_term = -darkness + 0.03 * texture + vessels + 0.22 * hila;
  lung_term +=
      draw_opacities(course, a, thorax, pose, out.labels, options, patient, rng, darkness, unit);
  density += structures;
  density += lung_term.mul(lungs_visible);
  // Heart and thymus: soft tissue in front of and beside the mediastinum.
  const cv::Mat heart_layer = as_float(mediastinal) * 0.13;
  const cv::Mat thymus_layer = as_float(thymus) * 0.10;
  density += cv::max(heart_layer, thymus_layer);
  cv::GaussianBlur(density, density, cv::Size(), std::max(0.6, 0.004 * unit) * q.blur);

  // Radio-opaque devices and hardware stay sharp.
  cv::Mat devices = cv::Mat::zeros(size, CV_32FC1);
  draw_devices(devices, course, a, thorax, pose, options, patient, rng, unit);
  for (int i = 0; i < a.sternal_wires; ++i) {
    const cv::Point2d c(a.cx + 0.01 * std::sin(3.0 * i), a.apex + (0.15 + 0.13 * i) * hl);
    const Polygon loop = thorax.place(ellipse(c, 0.012 * unit / w, 0.006 * unit / h, 16));
    const std::vector<std::vector<cv::Point>> polys{pose.raster(loop)};
    cv::polylines(devices, polys, true, cv::Scalar(0.55),
                  std::max(1, static_cast<int>(0.004 * unit)), cv::LINE_8, 4);
  }
  if (a.spinal_rods) {
    for (const double s : {-1.0, 1.0}) {
      Polygon rod;
      for (int i = 0; i <= 20; ++i) {
        const double y = a.apex + (0.05 + 1.0 * i / 20) * hl;
        rod.emplace_back(a.cx + thorax.spine_shift(y) - 0.3 * q.obliquity + s * 0.6 * a.spine_half,
                         y);
      }
      stroke(devices, pose, thorax.place(rod, false), 0.5, 0.006 * unit);
    }
  }
  cv::GaussianBlur(devices, devices, cv::Size(), 0.6);
  density += devices;

  // Exposure: contrast about mid-grey, brightness, gamma, quantum noise.
  const cv::Mat image = expose(density, q.contrast, q.brightness, q.gamma, q.noise,
                               common::mix64(patient_seed_v2(options, kNoiseTag, patient,
                                                             static_cast<std::uint64_t>(order))));
  out.image = image;
  return out;
}

}  // namespace cltci::data::detail
