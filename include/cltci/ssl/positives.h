// Which keys count as positives of an anchor in the contrastive loss (paper eq. 2), and with what
// weight.
//
// The paper's rule takes every image of the same patient as a positive. The other rules narrow
// that set to images that are likely to look alike: the same study, acquisitions within a time
// window, or all of the patient's images weighted by how close in time they were taken. Whatever
// the rule, two views of one image are positives with weight 1 (when image identities are given),
// so undated images and unknown studies still get their augmentation positive; a pair whose rule
// needs a time or a study that is missing is not a positive.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <string>
#include <vector>

namespace cltci::ssl {

/// The positive set of an anchor among the keys of the same patient.
enum class PositiveRule {
  kPatient,   ///< every image of the same patient, weight 1 (the paper's CL-TCI)
  kStudy,     ///< same patient and same known study (study >= 0 on both)
  kWindow,    ///< same patient, both dated, |t_r - t_j| <= max_days
  kWeighted,  ///< same patient, both dated, weight exp(-|t_r - t_j| / time_scale_days)
};

/// Config names in enum order: "patient", "study", "window", "weighted".
const std::vector<std::string>& positive_rule_names();
const std::string& to_string(PositiveRule rule);

/// A rule and the parameter it needs. Example (positives within a month):
///   PositiveOptions p;  p.rule = PositiveRule::kWindow;  p.max_days = 30;
struct PositiveOptions {
  PositiveRule rule = PositiveRule::kPatient;
  double max_days = 0.0;         ///< kWindow: > 0
  double time_scale_days = 0.0;  ///< kWeighted: tau_t > 0
  bool needs_days() const;       ///< kWindow or kWeighted
  bool needs_studies() const;    ///< kStudy
};

/// Throws common::InputError naming `key_prefix` + ".max_days" / ".time_scale_days" when the
/// value the rule needs is not a finite number > 0.
void check_positive_options(const PositiveOptions& options,
                            const std::string& key_prefix = "method");

/// Per-row attributes the rules read besides the patient id (all [N], on the features' device or
/// movable to it).
struct PairAttributes {
  at::Tensor ids;   ///< int64 patient ids
  at::Tensor days;  ///< float64 acquisition time in days, NaN = undated (needed by window/weighted)
  at::Tensor studies;  ///< int64 study number, -1 = unknown (needed by study)
  at::Tensor images;   ///< int64 image identity, < 0 = unknown; undefined: no same-image rule
};

/// The [Na, Nk] positive weights (in `dtype`) of the rule BEFORE validity/self exclusion: 0 where
/// ids differ, except that equal image identities (when both sides give them) are always 1, since
/// one image is one patient whatever its ids say. The reference
/// for the kernels; used by the full path. The result lies on the device of `anchors.ids`; time
/// differences are taken in double whatever `dtype` is.
at::Tensor positive_weights(const PositiveOptions& options,
                            const PairAttributes& anchors,
                            const PairAttributes& keys,
                            at::ScalarType dtype);

}  // namespace cltci::ssl
