// The training loop shared by every method: optimizer and per-iteration schedule, mixed
// precision, gradient clipping, progress lines and metrics.csv, atomic checkpoints every N epochs
// and on SIGINT/SIGTERM, exact resume, and a clear stop on a non-finite loss.
#pragma once

#include "cltci/dist/group.h"
#include "cltci/engine/grad_scaler.h"
#include "cltci/engine/lr_schedule.h"
#include "cltci/engine/optimizer.h"
#include "cltci/engine/precision.h"

#include <c10/core/Device.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace cltci::engine {

/// What is being trained. The trainer owns the loop; the task owns models, data and method state.
class TrainingTask {
 public:
  virtual ~TrainingTask() = default;
  virtual std::vector<torch::Tensor> trainable_parameters() = 0;
  /// Every parameter and buffer that must be equal on all ranks of a data-parallel run (rank
  /// 0's are broadcast at the start and before each epoch's end: BatchNorm statistics, MoCo's
  /// key encoder). Default: the trainable parameters.
  virtual std::vector<torch::Tensor> replicated_tensors() { return trainable_parameters(); }
  virtual std::int64_t steps_per_epoch() const = 0;
  /// Images per step over all ranks (the global batch).
  virtual std::int64_t samples_per_step() const = 0;
  /// Prepares epoch `epoch` so that its next batch is batch number `first_step` (resume).
  virtual void begin_epoch(std::int64_t epoch, std::int64_t first_step) = 0;
  /// Forward pass on the next batch; returns the scalar loss, connected to the parameters.
  virtual torch::Tensor forward_step(std::int64_t epoch, std::int64_t step) = 0;
  /// After the optimizer step (MoCo: momentum update and enqueue; PIRL: memory bank).
  virtual void after_step() {}
  /// Names of the task's own metrics.csv columns (after the trainer's), e.g. probe figures.
  virtual std::vector<std::string> metric_columns() const { return {}; }
  /// After the last step of epoch `epoch` (0-based), before its checkpoint; `mean_loss` is the
  /// mean over the epoch's steps run by this process. Returns one value per metric_columns()
  /// entry for the epoch's last metrics.csv row (NaN: left empty), or nothing.
  virtual std::vector<double> end_epoch(std::int64_t /*epoch*/, double /*mean_loss*/) { return {}; }
  /// Everything but the optimizer that a resumed run needs (weights, buffers, queues, banks).
  virtual void save_state(torch::serialize::OutputArchive& archive) = 0;
  virtual void load_state(torch::serialize::InputArchive& archive) = 0;
  virtual void set_training(bool training) = 0;
};

/// When the trainer reads each step's loss back to the host.
enum class LossReadback {
  kAuto,       ///< kDeferred on a GPU (one process), kEveryStep elsewhere
  kEveryStep,  ///< .item() after each forward pass: a non-finite loss stops before its backward
  /// Summed on the device and read at the log and epoch boundaries only, so that the host never
  /// waits for the GPU inside a step; a non-finite loss is found there (named by its step) and
  /// stops the run before anything is saved.
  kDeferred,
};

/// Whether the loss is scaled before backward (GradScaler).
enum class LossScaling {
  kAuto,  ///< under fp16 only (bf16 and fp32 have the exponent range to need none)
  kOn,    ///< always; in fp32 a no-op on finite gradients (the scale is a power of two)
  kOff,
};

struct TrainerOptions {
  std::filesystem::path run_dir;
  std::int64_t epochs = 1;
  std::int64_t checkpoint_every = 1;  ///< epochs
  std::int64_t log_every = 10;        ///< steps
  double warmup_epochs = 0.0;
  double min_lr = 0.0;
  LrSchedule schedule = LrSchedule::kCosine;
  double grad_clip = 0.0;  ///< 0: off
  Precision precision = Precision::kFp32;
  LossScaling loss_scaling = LossScaling::kAuto;
  GradScalerOptions grad_scaler;
  c10::Device device{c10::kCPU};
  OptimizerOptions optimizer;
  /// Data-parallel runs read every step (the ranks agree on each step's loss).
  LossReadback loss_readback = LossReadback::kAuto;
  /// Data parallelism: gradients averaged over the group's ranks, the loss and the interrupt
  /// flag agreed on every step, rank 0 alone writing metrics.csv and checkpoints. Null or a
  /// single-process group: none of it.
  std::shared_ptr<dist::Group> group;
};

struct TrainResult {
  std::int64_t epochs_done = 0;
  std::int64_t steps_done = 0;
  double last_loss = 0.0;
  double samples_per_second = 0.0;  ///< over the steps this process ran
  bool resumed = false;
  /// Data parallel: seconds per step this rank spent waiting for the gradient all-reduce after
  /// backward (what the overlap with backward did not hide) and for the step's agreement on
  /// the loss; 0 for one process.
  double sync_seconds_per_step = 0.0;
  /// Loss scaling: optimizer steps skipped over the whole run (resumes included) because the
  /// scaled gradients overflowed; 0 without scaling.
  std::int64_t skipped_steps = 0;
};

inline constexpr const char* kCheckpointFile = "checkpoint.pt";
inline constexpr const char* kMetricsFile = "metrics.csv";

/// Runs (or resumes, from run_dir/checkpoint.pt) the training of `task`. Throws
/// common::Interrupted after saving a checkpoint when SIGINT/SIGTERM arrived, and common::Error
/// (keeping the last good checkpoint) when the loss stops being finite. A checkpoint whose CRC32C
/// record does not match, or whose task state lacks a tensor of the task or holds it with another
/// shape, throws common::InputError naming the file (and the tensor) and is left as it is. So
/// does a checkpoint written by a data-parallel run of another world size (the global batch
/// and the shards would change under it).
TrainResult train(TrainingTask& task, const TrainerOptions& options);

}  // namespace cltci::engine
