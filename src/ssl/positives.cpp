// The positive rules as plain ATen ops over [Na, Nk]: the reference the fused chunk kernels
// (supcon_kernels_cpu.cpp, supcon_kernels.cu) reproduce pair by pair.
#include "cltci/ssl/positives.h"

#include "cltci/common/error.h"

#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace cltci::ssl {
namespace {

std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

/// One attribute column as a contiguous [n] tensor of `type` on `device`, after checking it.
at::Tensor column(const at::Tensor& values,
                  std::int64_t n,
                  const char* what,
                  at::ScalarType type,
                  const at::Device& device) {
  TORCH_CHECK(values.dim() == 1 && values.size(0) == n, "positive weights: ", what,
              " must have shape [", n, "], got ", values.sizes());
  if (type == at::kDouble) {
    TORCH_CHECK(at::isFloatingType(values.scalar_type()), "positive weights: ", what,
                " must be floating point (days, NaN = undated), got ", values.scalar_type());
  } else {
    TORCH_CHECK(!at::isFloatingType(values.scalar_type()) && values.scalar_type() != at::kBool,
                "positive weights: ", what, " must be integer, got ", values.scalar_type());
  }
  return values.to(device, type).contiguous();
}

at::Tensor required_column(const at::Tensor& values,
                           std::int64_t n,
                           const char* what,
                           at::ScalarType type,
                           const at::Device& device,
                           PositiveRule rule) {
  TORCH_CHECK(values.defined(), "positive weights: positives '", to_string(rule), "' need ", what,
              ", none given");
  return column(values, n, what, type, device);
}

}  // namespace

const std::vector<std::string>& positive_rule_names() {
  static const std::vector<std::string> names{"patient", "study", "window", "weighted"};
  return names;
}

const std::string& to_string(PositiveRule rule) {
  const auto index = static_cast<std::size_t>(rule);
  TORCH_CHECK(index < positive_rule_names().size(), "unknown positive rule ",
              static_cast<int>(rule));
  return positive_rule_names()[index];
}

bool PositiveOptions::needs_days() const {
  return rule == PositiveRule::kWindow || rule == PositiveRule::kWeighted;
}

bool PositiveOptions::needs_studies() const { return rule == PositiveRule::kStudy; }

void check_positive_options(const PositiveOptions& options, const std::string& key_prefix) {
  std::vector<std::string> problems;
  const auto require_positive = [&](double value, const char* key, const char* meaning) {
    if (value > 0.0 && std::isfinite(value)) return;
    problems.push_back(key_prefix + "." + key + ": must be a finite number > 0 with positives: " +
                       to_string(options.rule) + " (" + meaning + "), got " + number_text(value));
  };
  if (options.rule == PositiveRule::kWindow) {
    require_positive(options.max_days, "max_days",
                     "the largest time between two positives, in days");
  }
  if (options.rule == PositiveRule::kWeighted) {
    require_positive(options.time_scale_days, "time_scale_days",
                     "tau_t of the weights exp(-|dt| / tau_t), in days");
  }
  if (!problems.empty()) throw common::InputError(std::move(problems));
}

at::Tensor positive_weights(const PositiveOptions& options,
                            const PairAttributes& anchors,
                            const PairAttributes& keys,
                            at::ScalarType dtype) {
  TORCH_CHECK(at::isFloatingType(dtype), "positive weights: dtype must be floating point, got ",
              dtype);
  TORCH_CHECK(anchors.ids.defined() && keys.ids.defined(),
              "positive weights: anchor and key patient ids are required");
  TORCH_CHECK(anchors.ids.dim() == 1 && keys.ids.dim() == 1,
              "positive weights: ids must be 1-D, got ", anchors.ids.sizes(), " and ",
              keys.ids.sizes());
  TORCH_CHECK(anchors.images.defined() == keys.images.defined(),
              "positive weights: give image identities for both anchors and keys or for neither");
  const at::Device device = anchors.ids.device();
  const std::int64_t na = anchors.ids.size(0);
  const std::int64_t nk = keys.ids.size(0);
  const at::Tensor anchor_ids = column(anchors.ids, na, "anchor ids", at::kLong, device);
  const at::Tensor key_ids = column(keys.ids, nk, "key ids", at::kLong, device);
  const at::Tensor same_patient = anchor_ids.unsqueeze(1) == key_ids.unsqueeze(0);

  at::Tensor weights;
  switch (options.rule) {
    case PositiveRule::kPatient:
      weights = same_patient.to(at::kDouble);
      break;
    case PositiveRule::kStudy: {
      const at::Tensor a =
          required_column(anchors.studies, na, "anchor studies", at::kLong, device, options.rule)
              .unsqueeze(1);
      const at::Tensor k =
          required_column(keys.studies, nk, "key studies", at::kLong, device, options.rule);
      // -1 marks an unknown study: two unknowns are not "the same study".
      weights = (same_patient & (a >= 0) & (a == k.unsqueeze(0))).to(at::kDouble);
      break;
    }
    case PositiveRule::kWindow:
    case PositiveRule::kWeighted: {
      const at::Tensor a =
          required_column(anchors.days, na, "anchor days", at::kDouble, device, options.rule);
      const at::Tensor k =
          required_column(keys.days, nk, "key days", at::kDouble, device, options.rule);
      // In double whatever the logits' dtype: days since an epoch lose whole hours in float.
      const at::Tensor dt = (a.unsqueeze(1) - k.unsqueeze(0)).abs();
      if (options.rule == PositiveRule::kWindow) {
        // NaN (undated) compares false, so undated pairs drop out without a separate test.
        weights = (same_patient & (dt <= options.max_days)).to(at::kDouble);
      } else {
        weights = at::where(same_patient & dt.isnan().logical_not(),
                            at::exp(-dt / options.time_scale_days), at::zeros({}, dt.options()));
      }
      break;
    }
  }
  TORCH_CHECK(weights.defined(), "unknown positive rule ", static_cast<int>(options.rule));
  if (anchors.images.defined()) {
    const at::Tensor a = column(anchors.images, na, "anchor images", at::kLong, device);
    const at::Tensor k = column(keys.images, nk, "key images", at::kLong, device);
    // Two views of one image: a positive whatever the rule, even undated or of unknown study.
    const at::Tensor same_image = (a.unsqueeze(1) == k.unsqueeze(0)) & (a.unsqueeze(1) >= 0);
    weights = at::where(same_image, at::ones({}, weights.options()), weights);
  }
  return weights.to(dtype);
}

}  // namespace cltci::ssl
