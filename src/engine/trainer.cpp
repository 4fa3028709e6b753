#include "cltci/engine/trainer.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/interrupt.h"
#include "cltci/dist/gradient_sync.h"
#include "cltci/engine/grad_clip.h"
#include "cltci/engine/grad_scaler.h"
#include "cltci/engine/lr_schedule.h"
#include "cltci/engine/precision.h"
#include "common/crc32c.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cltci::engine {
namespace fs = std::filesystem;
namespace {

struct Progress {
  std::int64_t epoch = 0;  // current epoch (0-based)
  std::int64_t step = 0;   // next step within it
  std::int64_t global_step = 0;
};

// A checkpoint is torch's zip archive followed by a 16-byte record: "CLTCICRC", the CRC32C of
// the archive, 4 zero bytes. torch's reader does not check the zip's own CRCs, so without it a
// flipped bit in a weight is loaded and surfaces epochs later as a NaN loss. A file without the
// record (written before it existed) is accepted unchecked.
constexpr char kChecksumMagic[8] = {'C', 'L', 'T', 'C', 'I', 'C', 'R', 'C'};
constexpr std::size_t kChecksumRecord = 16;

void append_checksum(std::string& contents) {
  const std::uint32_t crc = common::detail::crc32c(contents.data(), contents.size());
  const std::uint32_t zero = 0;
  contents.append(kChecksumMagic, sizeof kChecksumMagic);
  contents.append(reinterpret_cast<const char*>(&crc), sizeof crc);
  contents.append(reinterpret_cast<const char*>(&zero), sizeof zero);
}

// Verifies and strips the checksum record, if there is one.
void verify_checksum(const fs::path& file, std::string& contents) {
  if (contents.size() < kChecksumRecord) return;
  const char* record = contents.data() + contents.size() - kChecksumRecord;
  if (std::memcmp(record, kChecksumMagic, sizeof kChecksumMagic) != 0) return;
  std::uint32_t stored = 0;
  std::memcpy(&stored, record + sizeof kChecksumMagic, sizeof stored);
  contents.resize(contents.size() - kChecksumRecord);
  if (common::detail::crc32c(contents.data(), contents.size()) != stored) {
    throw common::InputError(file.string() +
                             ": checksum mismatch: the file is corrupt; delete it to start over "
                             "or restore it from a backup");
  }
}

void save_checkpoint(const fs::path& file,
                     TrainingTask& task,
                     torch::optim::Optimizer& optimizer,
                     const GradScaler* scaler,
                     const Progress& progress,
                     int world_size,
                     c10::Device device) {
  torch::serialize::OutputArchive archive;
  archive.write("progress", torch::tensor({progress.epoch, progress.step, progress.global_step}));
  archive.write("world_size", torch::tensor(std::int64_t{world_size}));
  torch::serialize::OutputArchive task_archive;
  task.save_state(task_archive);
  archive.write("task", task_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  if (scaler) {
    torch::serialize::OutputArchive scaler_archive;
    scaler->save(scaler_archive);
    archive.write("grad_scaler", scaler_archive);
  }
  // The CPU generator drives dropout and any torch-side sampling: without it a resumed run would
  // draw different numbers than an uninterrupted one.
  archive.write("rng_cpu", at::detail::getDefaultCPUGenerator().get_state());
  // On a GPU, dropout (DeepLabV3+'s decoder) draws from the device's own generator.
  if (device.is_cuda()) {
    archive.write("rng_cuda", at::globalContext().defaultGenerator(device).get_state());
  }
  // Serialized in memory, not through torch's file writer: that one throws from its destructor
  // when the disk fills (std::terminate), and the bytes are needed for the checksum anyway.
  std::ostringstream zip;
  archive.save_to(zip);
  std::string contents = std::move(zip).str();
  append_checksum(contents);
  common::write_file_atomic(file, std::string_view(contents));
}

// The expected layout of a task's state: its current state, saved and read back.
torch::serialize::InputArchive expected_state(TrainingTask& task) {
  torch::serialize::OutputArchive out;
  task.save_state(out);
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  return in;
}

std::string shape_text(const torch::Tensor& tensor) {
  std::string text = "[";
  for (std::int64_t d = 0; d < tensor.dim(); ++d)
    text += (d ? ", " : "") + std::to_string(tensor.size(d));
  return text + "]";
}

// The first tensor of `expected` that `found` lacks or holds with another shape, as a sentence.
// torch's InputArchive would replace the storage of a differently shaped parameter silently
// (Tensor::set_) and fail later, deep inside a forward pass.
std::optional<std::string> first_mismatch(torch::serialize::InputArchive& expected,
                                          torch::serialize::InputArchive& found,
                                          const std::string& prefix) {
  for (const std::string& key : expected.keys()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    torch::serialize::InputArchive expected_child;
    if (expected.try_read(key, expected_child)) {
      torch::serialize::InputArchive found_child;
      if (!found.try_read(key, found_child)) return "'" + name + "' is missing";
      if (auto mismatch = first_mismatch(expected_child, found_child, name)) return mismatch;
      continue;
    }
    c10::IValue expected_value;
    if (!expected.try_read(key, expected_value) || !expected_value.isTensor()) continue;
    c10::IValue found_value;
    if (!found.try_read(key, found_value) || !found_value.isTensor())
      return "tensor '" + name + "' is missing";
    const torch::Tensor want = expected_value.toTensor();
    const torch::Tensor have = found_value.toTensor();
    if (want.sizes() != have.sizes()) {
      return "tensor '" + name + "' has shape " + shape_text(have) + ", the model expects " +
             shape_text(want);
    }
  }
  return std::nullopt;
}

Progress load_checkpoint(const fs::path& file,
                         TrainingTask& task,
                         torch::optim::Optimizer& optimizer,
                         GradScaler* scaler,
                         int world_size,
                         c10::Device device) {
  std::string contents = common::read_file(file);
  verify_checksum(file, contents);
  std::istringstream zip(contents);
  try {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(zip);
    } catch (const c10::Error& error) {
      throw common::InputError(file.string() + ": unreadable checkpoint (" +
                               std::string(error.what_without_backtrace()) + ")");
    }
    torch::Tensor progress_tensor;
    archive.read("progress", progress_tensor);
    // Checkpoints from before data parallelism are single-process ones.
    torch::Tensor written_by;
    const std::int64_t written_world =
        archive.try_read("world_size", written_by) ? written_by.item<std::int64_t>() : 1;
    if (written_world != world_size) {
      throw common::InputError(
          file.string() + ": written by a run of " + std::to_string(written_world) +
          " process(es), this one has " + std::to_string(world_size) +
          ": resume with the same number of processes (the global batch and every rank's shard "
          "depend on it) or start over with --overwrite");
    }
    torch::serialize::InputArchive task_archive;
    archive.read("task", task_archive);
    torch::serialize::InputArchive expected = expected_state(task);
    if (auto mismatch = first_mismatch(expected, task_archive, "")) {
      throw common::InputError(file.string() + ": checkpoint of another model: " + *mismatch +
                               "; use the configuration it was written with or --overwrite");
    }
    task.load_state(task_archive);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    // A checkpoint of a run without scaling (or from before it existed) resumes with the initial
    // scale; one with it, read by a run without, keeps the state unused.
    torch::serialize::InputArchive scaler_archive;
    if (scaler && archive.try_read("grad_scaler", scaler_archive)) scaler->load(scaler_archive);
    torch::Tensor rng;
    archive.read("rng_cpu", rng);
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(rng);
    // A checkpoint written on the CPU (or before the device state was saved) leaves the GPU's
    // generator as seeded; one written on a GPU, resumed on the CPU, keeps it unused.
    torch::Tensor rng_device;
    if (device.is_cuda() && archive.try_read("rng_cuda", rng_device)) {
      at::Generator device_generator = at::globalContext().defaultGenerator(device);  // a handle
      device_generator.set_state(rng_device);
    }
    const auto values = progress_tensor.accessor<std::int64_t, 1>();
    return {values[0], values[1], values[2]};
  } catch (const c10::Error& error) {
    // A missing entry or a wrong optimizer state: still the file's fault, in one line.
    throw common::InputError(file.string() + ": unusable checkpoint (" +
                             std::string(error.what_without_backtrace()) + ")");
  }
}

/// A run killed after its last checkpoint logged steps it will run again: keep metrics.csv's
/// header and its rows up to the checkpoint's global step (and drop a torn last line).
void truncate_metrics(const fs::path& metrics, std::int64_t global_step) {
  std::ifstream in(metrics);
  if (!in) return;
  std::string line, kept;
  bool header = true, dropped = false;
  while (std::getline(in, line)) {
    if (header) {
      kept += line + "\n";
      header = false;
      continue;
    }
    std::istringstream row(line);
    std::string cell;
    for (int column = 0; column < 3 && std::getline(row, cell, ','); ++column) {
    }
    std::int64_t step = -1;
    try {
      step = std::stoll(cell);
    } catch (const std::exception&) {
    }
    if (step >= 0 && step <= global_step) {
      kept += line + "\n";
    } else {
      dropped = true;
    }
  }
  in.close();
  if (dropped) common::write_file_atomic(metrics, std::string_view(kept));
}

std::string format_duration(double seconds) {
  const auto total = static_cast<std::int64_t>(seconds);
  std::ostringstream out;
  out << total / 3600 << ":" << std::setw(2) << std::setfill('0') << (total / 60) % 60 << ":"
      << std::setw(2) << std::setfill('0') << total % 60;
  return out.str();
}

/// Rank 0's values of every replicated tensor, on every rank.
void broadcast_replicated(dist::Group& group, TrainingTask& task) {
  const torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors = task.replicated_tensors();
  group.broadcast(tensors);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct StepAgreement {
  double mean_loss = 0.0;
  bool interrupted = false;
};

/// The mean of the ranks' losses (non-finite when any is) and whether any rank was signalled.
StepAgreement agree(dist::Group& group, double loss, bool interrupted) {
  std::vector<torch::Tensor> values{
      torch::tensor({loss, interrupted ? 1.0 : 0.0},
                    torch::TensorOptions().dtype(torch::kFloat64).device(group.device()))};
  group.all_reduce_sum(values);
  const torch::Tensor sums = values[0].cpu();
  return {sums[0].item<double>() / group.world_size(), sums[1].item<double>() > 0.0};
}

// The losses of the steps since the last read-back, kept where they were computed. Summed in
// float64 in step order, as the host sums them, so the logged figures do not depend on the
// read-back mode.
class DeviceLosses {
 public:
  /// `loss`: the step's detached float64 scalar; `index`: epoch * steps_per_epoch + step.
  void add(const torch::Tensor& loss, std::int64_t index) {
    if (!window_.defined()) {
      window_ = torch::zeros_like(loss);
      epoch_ = torch::zeros_like(loss);
      bad_index_ = torch::full({}, -1, loss.options().dtype(torch::kLong));
      bad_value_ = torch::zeros_like(loss);
    }
    window_.add_(loss);
    epoch_.add_(loss);
    last_ = loss;
    const auto newly_bad = bad_index_.lt(0).logical_and(loss.isfinite().logical_not());
    bad_index_ = torch::where(newly_bad, torch::full_like(bad_index_, index), bad_index_);
    bad_value_ = torch::where(newly_bad, loss, bad_value_);
  }
  /// The first non-finite loss since the start: its index, or -1 (this reads back).
  std::int64_t bad_index() const {
    return bad_index_.defined() ? bad_index_.item<std::int64_t>() : -1;
  }
  double bad_value() const { return bad_value_.item<double>(); }
  double last() const { return last_.item<double>(); }
  /// The sums since the previous take, read back and restarted.
  double take_window() { return take(window_); }
  double take_epoch() { return take(epoch_); }

 private:
  static double take(torch::Tensor& sum) {
    if (!sum.defined()) return 0.0;
    const auto value = sum.item<double>();
    sum.zero_();
    return value;
  }
  torch::Tensor window_, epoch_, last_, bad_index_, bad_value_;
};

common::Error non_finite_loss(double value,
                              std::int64_t epoch,
                              std::int64_t step,
                              const fs::path& checkpoint) {
  return common::Error("loss is " + std::to_string(value) + " at epoch " +
                       std::to_string(epoch + 1) + " step " + std::to_string(step) +
                       "; stopped, the last good checkpoint (if any) is kept in " +
                       checkpoint.string() + "; lower optim.lr or check the data");
}

}  // namespace

TrainResult train(TrainingTask& task, const TrainerOptions& options) {
  const std::int64_t steps_per_epoch = task.steps_per_epoch();
  if (steps_per_epoch <= 0) throw common::InputError("training data yields no batch per epoch");
  auto optimizer = make_optimizer(task.trainable_parameters(), options.optimizer);

  ScheduleOptions schedule;
  schedule.base_lr = options.optimizer.lr;
  schedule.min_lr = options.min_lr;
  schedule.total_steps = options.epochs * steps_per_epoch;
  schedule.warmup_steps =
      static_cast<std::int64_t>(options.warmup_epochs * static_cast<double>(steps_per_epoch));
  schedule.schedule = options.schedule;
  const ResolvedPrecision precision = resolve_precision(options.precision, options.device);
  if (options.precision == Precision::kAuto) {
    spdlog::info("[train] precision auto: {} ({}); run.precision=fp32 keeps full precision",
                 to_string(precision.precision), precision.reason);
  }

  std::optional<GradScaler> scaler;
  if (options.loss_scaling == LossScaling::kOn ||
      (options.loss_scaling == LossScaling::kAuto && precision.precision == Precision::kFp16)) {
    scaler.emplace(options.device, options.grad_scaler);
  }

  const std::shared_ptr<dist::Group> group =
      options.group ? options.group : std::make_shared<dist::Group>();
  const bool writer = group->main();  // rank 0 alone writes metrics and checkpoints
  const fs::path checkpoint = options.run_dir / kCheckpointFile;
  const fs::path metrics = options.run_dir / kMetricsFile;
  TrainResult result;
  Progress progress;
  // Every rank reads the checkpoint (the run directory is shared); rank 0 wrote it. Ranks that
  // disagreed about its existence would train from different states, so that is refused.
  bool resume = fs::exists(checkpoint);
  if (group->distributed()) {
    std::vector<torch::Tensor> seen{
        torch::tensor({resume ? 1.0 : 0.0},
                      torch::TensorOptions().dtype(torch::kFloat64).device(group->device()))};
    group->all_reduce_sum(seen);
    const auto ranks_seeing = seen[0].cpu().item<double>();
    if (ranks_seeing != 0.0 && ranks_seeing != group->world_size()) {
      throw common::Error(checkpoint.string() + " exists for " +
                          std::to_string(static_cast<int>(ranks_seeing)) + " of " +
                          std::to_string(group->world_size()) +
                          " processes: a data-parallel run needs its run directory on a file "
                          "system every process sees (run.output_dir)");
    }
  }
  if (resume) {
    progress = load_checkpoint(checkpoint, task, *optimizer, scaler ? &*scaler : nullptr,
                               group->world_size(), options.device);
    result.resumed = true;
    if (writer) truncate_metrics(metrics, progress.global_step);
    spdlog::info("[train] resuming at epoch {} step {}", progress.epoch + 1, progress.step);
  }
  // Identical replicas: rank 0's initial (or resumed) weights, buffers and method state.
  if (group->distributed()) broadcast_replicated(*group, task);
  const std::vector<std::string> extra_columns = task.metric_columns();
  std::ofstream metrics_out;
  if (writer) {
    if (!fs::exists(metrics)) {
      std::string header = "epoch,step,global_step,loss,lr,samples_per_s";
      for (const auto& column : extra_columns) header += "," + column;
      common::write_file_atomic(metrics, std::string_view(header + "\n"));
    }
    metrics_out.open(metrics, std::ios::app);
  }
  // Buckets are hooked once; every backward of the loop fills them.
  dist::GradientSync gradients(task.trainable_parameters(), group);
  // On a GPU an .item() per step would make the host wait for the forward pass before it can
  // queue the backward; deferred, the losses are read at the log and epoch boundaries.
  const bool deferred =
      !group->distributed() &&
      (options.loss_readback == LossReadback::kDeferred ||
       (options.loss_readback == LossReadback::kAuto && options.device.is_cuda()));
  DeviceLosses device_losses;
  // Deferred: a non-finite loss of any step since the last check stops the run here, before
  // anything it touched is saved or logged.
  const auto check_deferred = [&] {
    if (!deferred) return;
    const std::int64_t bad = device_losses.bad_index();
    if (bad >= 0) {
      throw non_finite_loss(device_losses.bad_value(), bad / steps_per_epoch, bad % steps_per_epoch,
                            checkpoint);
    }
  };
  const auto save = [&](const Progress& at) {
    check_deferred();
    if (writer) {
      save_checkpoint(checkpoint, task, *optimizer, scaler ? &*scaler : nullptr, at,
                      group->world_size(), options.device);
    }
  };

  const auto started = std::chrono::steady_clock::now();
  auto window_start = started;
  std::int64_t steps_run = 0;
  double sync_seconds = 0.0;
  std::int64_t window_steps = 0;
  double window_loss = 0.0;
  task.set_training(true);
  for (; progress.epoch < options.epochs; ++progress.epoch, progress.step = 0) {
    task.begin_epoch(progress.epoch, progress.step);
    double epoch_loss = 0.0;
    std::int64_t epoch_steps = 0;
    for (; progress.step < steps_per_epoch; ++progress.step, ++progress.global_step) {
      // Single process: stop before the step. Data parallel: the ranks agree after the forward
      // pass (below), so that they all stop at the same step.
      if (!group->distributed() && common::interrupt_requested()) {
        save(progress);
        common::throw_if_interrupted(("checkpoint saved to " + checkpoint.string() +
                                      "; run the same command again to resume")
                                         .c_str());
      }
      const double lr = learning_rate(schedule, progress.global_step);
      set_learning_rate(*optimizer, lr);
      optimizer->zero_grad();
      torch::Tensor loss;
      {
        AutocastScope autocast(precision.precision, options.device);
        loss = task.forward_step(progress.epoch, progress.step);
      }
      double loss_value = 0.0;
      if (deferred) {
        device_losses.add(loss.detach().to(torch::kFloat64),
                          progress.epoch * steps_per_epoch + progress.step);
      } else {
        loss_value = loss.detach().to(torch::kFloat64).item<double>();
      }
      if (group->distributed()) {
        // One small all-reduce a step: the logged loss is the global batch's, a NaN on any rank
        // stops every rank at the same step, and so does a signal that reached any of them.
        const auto agreeing = std::chrono::steady_clock::now();
        const StepAgreement agreed = agree(*group, loss_value, common::interrupt_requested());
        sync_seconds += seconds_since(agreeing);
        loss_value = agreed.mean_loss;
        if (agreed.interrupted) {
          save(progress);
          throw common::Interrupted(writer ? "interrupted: checkpoint saved to " +
                                                 checkpoint.string() +
                                                 "; run the same command again to resume"
                                           : "interrupted: rank 0 saves the checkpoint");
        }
      }
      if (!deferred && !std::isfinite(loss_value)) {
        throw non_finite_loss(loss_value, progress.epoch, progress.step, checkpoint);
      }
      (scaler ? scaler->scale(loss) : loss).backward();
      const auto finishing = std::chrono::steady_clock::now();
      gradients.finish();
      if (group->distributed()) sync_seconds += seconds_since(finishing);
      // Averaged over the ranks before unscaling: every rank sees the same overflow and skips the
      // same steps.
      if (scaler) scaler->unscale(task.trainable_parameters());
      if (options.grad_clip > 0.0) {
        clip_grad_norm(task.trainable_parameters(), options.grad_clip);
      }
      if (scaler) {
        scaler->step(*optimizer);
        scaler->update();
      } else {
        optimizer->step();
      }
      task.after_step();
      ++steps_run;
      ++window_steps;
      ++epoch_steps;
      const bool last_of_epoch = progress.step + 1 == steps_per_epoch;
      const bool log_now = window_steps >= options.log_every || last_of_epoch;
      if (!deferred) {
        result.last_loss = loss_value;
        window_loss += loss_value;
        epoch_loss += loss_value;
      } else if (log_now) {
        check_deferred();
        result.last_loss = device_losses.last();
        window_loss = device_losses.take_window();
        if (last_of_epoch) epoch_loss = device_losses.take_epoch();
      }
      std::vector<double> extra_values;
      if (last_of_epoch) {
        // Local BatchNorm statistics drift apart between ranks; rank 0's are the run's (what
        // DDP's broadcast_buffers gives), for the epoch's probes, validation and checkpoint.
        if (group->distributed()) broadcast_replicated(*group, task);
        extra_values =
            task.end_epoch(progress.epoch, epoch_loss / static_cast<double>(epoch_steps));
        task.set_training(true);
      }
      if (writer && log_now) {
        const auto now = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(now - window_start).count();
        const double rate =
            static_cast<double>(window_steps * task.samples_per_step()) / std::max(seconds, 1e-9);
        const double mean_loss = window_loss / static_cast<double>(window_steps);
        const std::int64_t remaining = schedule.total_steps - progress.global_step - 1;
        const double eta =
            seconds / static_cast<double>(window_steps) * static_cast<double>(remaining);
        spdlog::info("[train] epoch {}/{} step {}/{} loss {:.4f} lr {:.3g} {:.1f} img/s ETA {}",
                     progress.epoch + 1, options.epochs, progress.step + 1, steps_per_epoch,
                     mean_loss, lr, rate, format_duration(eta));
        metrics_out << progress.epoch + 1 << ',' << progress.step + 1 << ','
                    << progress.global_step + 1 << ',' << mean_loss << ',' << lr << ',' << rate;
        for (std::size_t c = 0; c < extra_columns.size(); ++c) {
          metrics_out << ',';
          if (c < extra_values.size() && std::isfinite(extra_values[c])) {
            metrics_out << extra_values[c];
          }
        }
        metrics_out << '\n';
        metrics_out.flush();
        window_start = now;
        window_steps = 0;
        window_loss = 0.0;
      }
    }
    const bool last_epoch = progress.epoch + 1 == options.epochs;
    if (last_epoch || (progress.epoch + 1) % options.checkpoint_every == 0) {
      save(Progress{progress.epoch + 1, 0, progress.global_step});
    }
  }
  task.set_training(false);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.epochs_done = options.epochs;
  result.steps_done = progress.global_step;
  result.samples_per_second =
      static_cast<double>(steps_run * task.samples_per_step()) / std::max(seconds, 1e-9);
  if (steps_run > 0) result.sync_seconds_per_step = sync_seconds / static_cast<double>(steps_run);
  if (group->distributed() && steps_run > 0) {
    spdlog::info(
        "[train] {} ranks: {:.1f} ms per step waiting for the other ranks (gradient "
        "all-reduce not hidden by backward, loss agreement) of {:.1f} ms per step",
        group->world_size(), 1e3 * result.sync_seconds_per_step,
        1e3 * seconds / static_cast<double>(steps_run));
  }
  if (scaler) {
    result.skipped_steps = scaler->skipped_steps();
    spdlog::info("[train] loss scaling: {} step(s) skipped for overflowing gradients, scale {:g}",
                 result.skipped_steps, scaler->current_scale());
  }
  return result;
}

}  // namespace cltci::engine
