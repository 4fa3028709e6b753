#include "cltci/dist/gradient_sync.h"

#include <torch/torch.h>

#include <utility>

namespace cltci::dist {

GradientSync::GradientSync(std::vector<at::Tensor> parameters,
                           std::shared_ptr<Group> group,
                           GradientSyncOptions options)
    : parameters_(std::move(parameters)), group_(std::move(group)) {
  if (!group_ || !group_->distributed()) return;
  TORCH_CHECK(options.bucket_bytes > 0, "gradient sync: bucket_bytes must be > 0");
  slots_.resize(parameters_.size());
  // Reverse order; a new bucket starts at the size cap and whenever dtype or device changes
  // (a flat buffer holds one of each).
  for (std::size_t k = parameters_.size(); k-- > 0;) {
    const at::Tensor& parameter = parameters_[k];
    TORCH_CHECK(parameter.requires_grad(), "gradient sync: parameter ", k,
                " does not require grad");
    const std::int64_t bytes =
        parameter.numel() * static_cast<std::int64_t>(parameter.element_size());
    const bool fresh =
        buckets_.empty() || buckets_.back().flat.scalar_type() != parameter.scalar_type() ||
        buckets_.back().flat.device() != parameter.device() ||
        (buckets_.back().flat.numel() * static_cast<std::int64_t>(parameter.element_size()) +
                 bytes >
             options.bucket_bytes &&
         !buckets_.back().parameters.empty());
    if (fresh) {
      Bucket bucket;
      bucket.flat = at::empty({0}, parameter.options().requires_grad(false));
      buckets_.push_back(std::move(bucket));
    }
    Bucket& bucket = buckets_.back();
    slots_[k] = {buckets_.size() - 1, bucket.flat.numel(), parameter.numel(), false};
    bucket.parameters.push_back(k);
    // Sized for now, allocated below once its members are known.
    bucket.flat = at::empty({bucket.flat.numel() + parameter.numel()}, bucket.flat.options());
  }
  for (Bucket& bucket : buckets_) bucket.flat.zero_();
  hooks_.reserve(parameters_.size());
  for (std::size_t k = 0; k < parameters_.size(); ++k) {
    hooks_.push_back(parameters_[k].register_hook([this, k](const at::Tensor& grad) {
      on_gradient(k, grad);
      return at::Tensor();  // the gradient goes on unchanged; finish() overwrites it
    }));
  }
}

GradientSync::~GradientSync() {
  for (std::size_t k = 0; k < hooks_.size(); ++k) {
    try {
      parameters_[k].remove_hook(hooks_[k]);
    } catch (const std::exception&) {
      // The tensor may be gone with its module; nothing to undo then.
    }
  }
  // A step that threw between backward and finish() leaves works in flight: drain them so no
  // collective outlives the buffers it writes.
  for (Bucket& bucket : buckets_) {
    try {
      bucket.work.wait();
    } catch (const std::exception&) {
    }
  }
}

void GradientSync::on_gradient(std::size_t parameter, const at::Tensor& grad) {
  Slot& slot = slots_[parameter];
  Bucket& bucket = buckets_[slot.bucket];
  if (slot.ready) return;  // the same parameter reached twice in one backward: first wins
  const torch::NoGradGuard no_grad;
  bucket.flat.slice(0, slot.offset, slot.offset + slot.numel).copy_(grad.reshape({-1}));
  slot.ready = true;
  ++bucket.ready;
  launch_ready();
}

void GradientSync::launch(Bucket& bucket) {
  bucket.launched = true;
  bucket.work = group_->all_reduce_sum_async(bucket.flat);
}

void GradientSync::launch_ready() {
  while (next_launch_ < buckets_.size() &&
         buckets_[next_launch_].ready == buckets_[next_launch_].parameters.size()) {
    launch(buckets_[next_launch_++]);
  }
}

void GradientSync::finish() {
  if (buckets_.empty()) return;
  const torch::NoGradGuard no_grad;
  // Parameters without a gradient this step send zeros, so every rank's layout matches.
  for (std::size_t k = 0; k < slots_.size(); ++k) {
    Slot& slot = slots_[k];
    if (slot.ready) continue;
    buckets_[slot.bucket].flat.slice(0, slot.offset, slot.offset + slot.numel).zero_();
    slot.ready = true;
    ++buckets_[slot.bucket].ready;
  }
  launch_ready();
  const double scale = 1.0 / static_cast<double>(group_->world_size());
  for (Bucket& bucket : buckets_) {
    bucket.work.wait();
    bucket.flat.mul_(scale);
    for (const std::size_t k : bucket.parameters) {
      const Slot& slot = slots_[k];
      at::Tensor& parameter = parameters_[k];
      const at::Tensor average =
          bucket.flat.slice(0, slot.offset, slot.offset + slot.numel).view(parameter.sizes());
      if (parameter.grad().defined()) {
        parameter.mutable_grad().copy_(average);
      } else {
        parameter.mutable_grad() = average.clone();
      }
    }
  }
  for (Bucket& bucket : buckets_) {
    bucket.ready = 0;
    bucket.launched = false;
  }
  for (Slot& slot : slots_) slot.ready = false;
  next_launch_ = 0;
}

}  // namespace cltci::dist
