// Gradient averaging for data-parallel training, overlapped with backward as PyTorch's DDP
// Reducer does: parameters are packed into flat buckets of about `bucket_bytes` in reverse
// registration order (the order gradients tend to arrive in), a hook on each parameter copies
// its gradient into its bucket, and a bucket whose gradients are all in is all-reduced
// asynchronously while backward goes on. Buckets are launched strictly in index order, so every
// rank issues the same collectives in the same order whatever order its gradients came in.
// finish() launches what is left (a parameter without gradient this step counts as zeros, and
// every rank still sends the same layout), waits, divides by the world size and writes the
// averages into the parameters' .grad.
#pragma once

#include "cltci/dist/group.h"

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace cltci::dist {

struct GradientSyncOptions {
  /// DDP's bucket_cap_mb default (25 MiB).
  std::int64_t bucket_bytes = std::int64_t{25} << 20;
};

class GradientSync {
 public:
  /// Hooks `parameters` (which must require grad) for the world of `group`; with one process
  /// nothing is hooked and finish() does nothing.
  GradientSync(std::vector<at::Tensor> parameters,
               std::shared_ptr<Group> group,
               GradientSyncOptions options = {});
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  /// After backward: every parameter's .grad holds the mean over ranks.
  void finish();

  std::size_t buckets() const { return buckets_.size(); }

 private:
  struct Slot {
    std::size_t bucket = 0;
    std::int64_t offset = 0;
    std::int64_t numel = 0;
    bool ready = false;
  };
  struct Bucket {
    at::Tensor flat;
    std::vector<std::size_t> parameters;
    std::size_t ready = 0;
    bool launched = false;
    PendingWork work;
  };
  void on_gradient(std::size_t parameter, const at::Tensor& grad);
  void launch_ready();
  void launch(Bucket& bucket);

  std::vector<at::Tensor> parameters_;
  std::shared_ptr<Group> group_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  std::vector<unsigned> hooks_;
  std::size_t next_launch_ = 0;
};

}  // namespace cltci::dist
