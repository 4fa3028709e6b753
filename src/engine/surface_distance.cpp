#include "cltci/engine/surface_distance.h"

#include "cltci/analysis/percentile.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace cltci::engine {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// A binary mask cropped to a box of the image; pixels outside the box are background.
struct Mask {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::uint8_t> on;  ///< row-major, rows x cols

  bool at(std::int64_t r, std::int64_t c) const {
    return r >= 0 && r < rows && c >= 0 && c < cols &&
           on[static_cast<std::size_t>(r * cols + c)] != 0;
  }
};

/// Pixels that binary erosion with the 4-connected cross removes. A neighbour outside the box is
/// background: either it lies outside the union's bounding box, or outside the image, which scipy's
/// erosion (border_value 0) and MONAI's zero-padded crop also treat as background.
Mask edges(const Mask& mask) {
  Mask out{mask.rows, mask.cols, std::vector<std::uint8_t>(mask.on.size(), 0)};
  for (std::int64_t r = 0; r < mask.rows; ++r) {
    for (std::int64_t c = 0; c < mask.cols; ++c) {
      if (!mask.at(r, c)) continue;
      const bool interior =
          mask.at(r - 1, c) && mask.at(r + 1, c) && mask.at(r, c - 1) && mask.at(r, c + 1);
      out.on[static_cast<std::size_t>(r * mask.cols + c)] = interior ? 0 : 1;
    }
  }
  return out;
}

/// One line of the Felzenszwalb-Huttenlocher squared distance transform:
/// out[q] = min_p weight * (q - p)^2 + f[p], read and written with `stride`; +inf in f means no
/// site. With unit spacing every value is an integer and each intersection a ratio of integers
/// with a denominator below 2n, so rounding can only misorder two intersections with no pixel
/// between them: the values at the pixels are exact, not approximate (as scipy's EDT).
void lower_envelope(const double* f,
                    double* out,
                    std::int64_t n,
                    std::int64_t stride,
                    double weight,
                    std::vector<std::int64_t>& sites,
                    std::vector<double>& bounds) {
  sites.resize(static_cast<std::size_t>(n));
  bounds.resize(static_cast<std::size_t>(n + 1));
  const auto value = [&](std::int64_t p) { return f[p * stride]; };
  std::int64_t k = -1;  // index of the last parabola of the envelope
  for (std::int64_t q = 0; q < n; ++q) {
    const double fq = value(q);
    if (fq == kInfinity) continue;
    const auto dq = static_cast<double>(q);
    if (k < 0) {
      k = 0;
      sites[0] = q;
      bounds[0] = -kInfinity;
      bounds[1] = kInfinity;
      continue;
    }
    double s = 0.0;
    while (true) {
      const std::int64_t p = sites[static_cast<std::size_t>(k)];
      const auto dp = static_cast<double>(p);
      s = ((fq + weight * dq * dq) - (value(p) + weight * dp * dp)) / (2.0 * weight * (dq - dp));
      // bounds[0] is -inf, so k never drops below 0.
      if (s <= bounds[static_cast<std::size_t>(k)]) {
        --k;
      } else {
        break;
      }
    }
    ++k;
    sites[static_cast<std::size_t>(k)] = q;
    bounds[static_cast<std::size_t>(k)] = s;
    bounds[static_cast<std::size_t>(k + 1)] = kInfinity;
  }
  if (k < 0) {
    for (std::int64_t q = 0; q < n; ++q) out[q * stride] = kInfinity;
    return;
  }
  k = 0;
  for (std::int64_t q = 0; q < n; ++q) {
    while (bounds[static_cast<std::size_t>(k + 1)] < static_cast<double>(q)) ++k;
    const std::int64_t p = sites[static_cast<std::size_t>(k)];
    const auto d = static_cast<double>(q - p);
    out[q * stride] = weight * d * d + value(p);
  }
}

/// Squared Euclidean distance from every pixel of the box to the nearest site, with the per-axis
/// pixel sizes of `spacing`: one pass down the columns, then one along the rows. The box holds all
/// sites, so distances inside it equal those over the whole image.
std::vector<double> squared_distance_to(const Mask& sites, std::array<double, 2> spacing) {
  const std::int64_t rows = sites.rows;
  const std::int64_t cols = sites.cols;
  std::vector<double> f(sites.on.size());
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = sites.on[i] != 0 ? 0.0 : kInfinity;
  std::vector<double> by_column(f.size());
  std::vector<double> result(f.size());
  std::vector<std::int64_t> parabola_sites;
  std::vector<double> parabola_bounds;
  const double row_weight = spacing[0] * spacing[0];
  const double col_weight = spacing[1] * spacing[1];
  for (std::int64_t c = 0; c < cols; ++c) {
    lower_envelope(f.data() + c, by_column.data() + c, rows, cols, row_weight, parabola_sites,
                   parabola_bounds);
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    lower_envelope(by_column.data() + r * cols, result.data() + r * cols, cols, 1, col_weight,
                   parabola_sites, parabola_bounds);
  }
  return result;
}

/// Distances from each edge pixel of `from` to the nearest edge pixel of `to`, appended to `out`.
void directed_distances(const Mask& from,
                        const Mask& to,
                        std::array<double, 2> spacing,
                        std::vector<double>& out) {
  const auto squared = squared_distance_to(to, spacing);
  for (std::size_t i = 0; i < from.on.size(); ++i) {
    if (from.on[i] != 0) out.push_back(std::sqrt(squared[i]));
  }
}

}  // namespace

const std::string& to_string(SurfaceStatus status) {
  static const std::string kNames[] = {"defined", "both_empty", "prediction_empty", "target_empty"};
  return kNames[static_cast<int>(status)];
}

std::vector<SurfaceDistances> surface_distances(const torch::Tensor& prediction,
                                                const torch::Tensor& target,
                                                std::int64_t classes,
                                                std::array<double, 2> spacing,
                                                std::int64_t ignore_index) {
  TORCH_CHECK(prediction.dim() == 2,
              "surface distances: prediction must be an [H, W] label map, got ",
              prediction.sizes());
  TORCH_CHECK(prediction.sizes() == target.sizes(), "surface distances: prediction ",
              prediction.sizes(), " and target ", target.sizes(), " differ in shape");
  TORCH_CHECK(c10::isIntegralType(prediction.scalar_type(), /*includeBool=*/true) &&
                  c10::isIntegralType(target.scalar_type(), /*includeBool=*/true),
              "surface distances: label maps must have an integer dtype, got ",
              prediction.scalar_type(), " and ", target.scalar_type());
  TORCH_CHECK(classes >= 2, "surface distances: needs at least 2 classes, got ", classes);
  TORCH_CHECK(spacing[0] > 0.0 && spacing[1] > 0.0 && std::isfinite(spacing[0]) &&
                  std::isfinite(spacing[1]),
              "surface distances: spacing must be positive, got {", spacing[0], ", ", spacing[1],
              "}");
  const auto truth_full = target.to(torch::kCPU, torch::kLong);
  const auto ignored = truth_full == ignore_index;
  const auto pred_full = prediction.to(torch::kCPU, torch::kLong).masked_fill(ignored, 0);
  const auto truth_clean = truth_full.masked_fill(ignored, 0);

  std::vector<SurfaceDistances> out(static_cast<std::size_t>(classes - 1));
  for (std::int64_t c = 1; c < classes; ++c) {
    auto& result = out[static_cast<std::size_t>(c - 1)];
    const auto p = pred_full == c;
    const auto t = truth_clean == c;
    const bool has_p = p.any().item<bool>();
    const bool has_t = t.any().item<bool>();
    if (!has_p || !has_t) {
      result.status = !has_p && !has_t ? SurfaceStatus::kBothEmpty
                      : !has_p         ? SurfaceStatus::kPredictionEmpty
                                       : SurfaceStatus::kTargetEmpty;
      continue;
    }
    // Work in the union's bounding box: every edge lies in it, and the cost then scales with the
    // lung, not the image.
    const auto any = p | t;
    const auto rows_on = torch::nonzero(any.any(1)).flatten();
    const auto cols_on = torch::nonzero(any.any(0)).flatten();
    const std::int64_t r0 = rows_on[0].item<std::int64_t>();
    const std::int64_t r1 = rows_on[-1].item<std::int64_t>() + 1;
    const std::int64_t c0 = cols_on[0].item<std::int64_t>();
    const std::int64_t c1 = cols_on[-1].item<std::int64_t>() + 1;
    const auto to_mask = [&](const torch::Tensor& binary) {
      const auto box = binary.slice(0, r0, r1).slice(1, c0, c1).to(torch::kUInt8).contiguous();
      const auto* data = box.data_ptr<std::uint8_t>();
      return Mask{r1 - r0, c1 - c0, std::vector<std::uint8_t>(data, data + box.numel())};
    };
    const Mask pred_edges = edges(to_mask(p));
    const Mask truth_edges = edges(to_mask(t));

    std::vector<double> pred_to_truth;
    std::vector<double> truth_to_pred;
    directed_distances(pred_edges, truth_edges, spacing, pred_to_truth);
    directed_distances(truth_edges, pred_edges, spacing, truth_to_pred);
    result.status = SurfaceStatus::kDefined;
    result.hd95 = std::max(analysis::percentile(pred_to_truth, 95.0),
                           analysis::percentile(truth_to_pred, 95.0));
    double sum = 0.0;
    for (const double d : pred_to_truth) sum += d;
    for (const double d : truth_to_pred) sum += d;
    result.assd = sum / static_cast<double>(pred_to_truth.size() + truth_to_pred.size());
  }
  return out;
}

}  // namespace cltci::engine
