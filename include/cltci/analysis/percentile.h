// Percentiles as numpy computes them (numpy.percentile, default method "linear"), the one home
// for them: HD95 (engine/surface_distance.h) and the per-image Dice distributions of `evaluate`
// must equal what users get from numpy and MONAI.
#pragma once

#include <vector>

namespace cltci::analysis {

/// numpy.percentile(values, percent): virtual index (n - 1) q with numpy's two-sided lerp (from the
/// nearer end), so that the result equals numpy's to the last bit. percent in [0, 100]; values
/// must not be empty (c10::Error otherwise).
double percentile(std::vector<double> values, double percent);

}  // namespace cltci::analysis
