// Training curves of pretrain and finetune runs from their metrics.csv: a loss panel, a
// learning-rate panel and, when a run logged the representation probe, a probe top-1 panel,
// against the global step, one line per run (or per fine-tuning cell).
#pragma once

#include <opencv2/core/mat.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cltci::run {

/// One metrics.csv; NaN where a row leaves a column empty (the probe fills its epochs only).
struct TrainingCurve {
  std::string label;
  std::vector<double> step;  ///< global_step
  std::vector<double> loss;
  std::vector<double> lr;
  std::vector<double> probe_top1;  ///< empty when the file has no probe_top1 column
};

/// Reads a metrics.csv (columns global_step, loss and lr required, probe_top1 optional; any
/// order, others ignored). A missing column or a field that is not a number is a
/// common::InputError naming the file (and line).
TrainingCurve read_training_curve(const std::filesystem::path& metrics_csv, std::string label);

/// The curves of each input: a metrics.csv file, a run directory holding one (labelled with the
/// directory's name), or a finetune run directory, whose cells fold<k>/m<M>/seed<s>/ each hold one
/// (labelled "<run>/fold0/m10/seed0", in path order). A path with no metrics.csv at or below it is
/// a common::InputError.
std::vector<TrainingCurve> read_training_curves(const std::vector<std::filesystem::path>& runs);

/// The panels stacked top to bottom, each `width` x `panel_height` pixels (CV_8UC3): loss, lr,
/// and probe top-1 (%) when any curve has a probe value; x = global step in every panel.
cv::Mat training_curves_plot(const std::vector<TrainingCurve>& curves,
                             int width = 900,
                             int panel_height = 360);

}  // namespace cltci::run
