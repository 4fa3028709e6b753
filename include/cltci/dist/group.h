// The process group of a data-parallel job, on LibTorch's c10d: a TCPStore rendezvous at
// MASTER_ADDR:MASTER_PORT, then Gloo (CPU tensors) or NCCL (CUDA tensors) for the collectives.
// A default-constructed Group is the single process: every collective returns at once and no
// c10d object exists, so a run without a launcher pays nothing.
//
// Every collective must be issued in the same order on every rank (c10d matches them by order).
// A collective that fails (a peer died, or did not arrive within the timeout) throws PeerLost,
// whose one line names the lost rank when the heartbeats in the store can tell it.
#pragma once

#include "cltci/common/error.h"
#include "cltci/dist/launch.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cltci::dist {

enum class Backend {
  kAuto,  ///< NCCL for CUDA devices, Gloo for the CPU
  kGloo,
  kNccl,
};

/// Names accepted by backend_from_string (the config's run.dist_backend).
const std::vector<std::string>& backend_names();
Backend backend_from_string(const std::string& name);
const char* to_string(Backend backend);

struct GroupOptions {
  Backend backend = Backend::kAuto;
  /// Rendezvous and collective timeout: a rank that does not arrive within it ends the job.
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  /// The device of this rank's tensors (NCCL: the local GPU, cuda:LOCAL_RANK).
  c10::Device device{c10::kCPU};
  /// Gloo: the network interface to use (as GLOO_SOCKET_IFNAME); empty: this host's name,
  /// falling back to the loopback device.
  std::string gloo_interface;
};

/// A collective failed: another rank died, or did not take part within the timeout.
class PeerLost : public common::Error {
 public:
  using common::Error::Error;
};

/// An asynchronous collective; wait() blocks until its result is in place (throws PeerLost).
class PendingWork {
 public:
  PendingWork() = default;
  explicit PendingWork(std::function<void()> wait) : wait_(std::move(wait)) {}
  void wait();

 private:
  std::function<void()> wait_;
};

class Group {
 public:
  /// The single process.
  Group() = default;
  /// Joins the job `launch` describes (world size 1 still makes a real group of one, which is
  /// what the NCCL-on-one-GPU test uses). Throws common::Error with one line when the
  /// rendezvous fails or times out. One joined group per process, as launchers run ranks:
  /// torch's flight recorder is process-wide and its first record of a group is not locked, so
  /// groups of one process used from several threads race there (tests that play several ranks
  /// in one process turn it off, dist_test_support.cpp).
  static std::shared_ptr<Group> join(const LaunchInfo& launch, const GroupOptions& options);

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  bool main() const { return rank_ == 0; }
  /// More than one process: collectives do something.
  bool distributed() const { return world_size_ > 1; }
  Backend backend() const { return backend_; }
  const LaunchInfo& launch() const { return launch_; }
  c10::Device device() const { return device_; }
  /// "rank 1 of 2 (gloo, torchrun/env)", or "single process".
  std::string describe() const;

  /// Element-wise sum over ranks, in place (each tensor contiguous, on device()).
  void all_reduce_sum(std::vector<at::Tensor>& tensors);
  PendingWork all_reduce_sum_async(at::Tensor& flat);
  /// Rank `root`'s values into every rank's tensors, in place.
  void broadcast(std::vector<at::Tensor>& tensors, int root = 0);
  /// The ranks' `local` tensors (same shape on every rank) concatenated along dim 0 in rank
  /// order; no gradient (see gather.h for the differentiable one).
  at::Tensor all_gather(const at::Tensor& local);
  /// Waits for every rank; `timeout` overrides the group's (a long wait for rank 0's cache).
  void barrier(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  /// Rank `root`'s value of `value`, on every rank; `timeout` as for barrier().
  std::int64_t broadcast_value(std::int64_t value,
                               int root = 0,
                               std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  /// The largest of the ranks' values.
  double max_value(double value);

  struct Impl;

 private:
  int rank_ = 0;
  int world_size_ = 1;
  Backend backend_ = Backend::kGloo;
  LaunchInfo launch_;
  c10::Device device_{c10::kCPU};
  std::shared_ptr<Impl> impl_;
};

}  // namespace cltci::dist
