// How long the rest of a sweep will take: each job's work in images processed (pre-training:
// epochs x images of its data set; fine-tuning: epochs x M for every unfinished fold x M x seed
// cell), divided by a throughput in images per second per stage and backbone. The throughput is
// the mean `images_per_second` of the finished runs' summary.json files (pre-training runs, and
// fine-tuning cells) with that stage and backbone, rescaled to each job's image size by pixel
// count; without any, `--images-per-second BACKBONE=N` from the user, else a stated default.
// Evaluation and report jobs take seconds and are not counted.
#pragma once

#include "cltci/run/sweep_graph.h"
#include "cltci/run/sweep_state.h"

#include <map>
#include <string>
#include <vector>

namespace cltci::run {

struct JobEstimate {
  double images = 0.0;   ///< work left, in images processed (0 for done jobs)
  double seconds = 0.0;  ///< images / throughput; 0 when unknown
  bool known = true;     ///< false when the job's data set size is unknown
};

struct SweepEstimate {
  std::vector<JobEstimate> jobs;
  double seconds = 0.0;  ///< sum over the unfinished jobs that could be estimated
  std::size_t unknown = 0;
  /// One line per throughput used: where it came from.
  std::vector<std::string> assumptions;
};

/// Default fine-tuning throughput (images/s at 256 px, fp32) of a backbone on the 2-core CPU of
/// the benchmarks (docs/benchmarks.md): U-Net 2.5, DeepLabV3+ 3.4; other names 2.5.
double default_images_per_second(const std::string& arch);

/// Relative cost per image of a pre-training method against one supervised step (views and
/// encoder passes: MoCo query + key 1.5, SimCLR 2 views 2, Rotation 4 rotations 4, PIRL 2).
double pretraining_cost(const std::string& method);

/// `rates` maps a backbone's model.arch to a user-given fine-tuning images/s at 256 px.
SweepEstimate estimate_sweep(const SweepGraph& graph,
                             const std::vector<JobState>& states,
                             const std::map<std::string, double>& rates);

/// "3 d 4 h", "2 h 05 min", "40 s".
std::string format_duration(double seconds);

}  // namespace cltci::run
