// MoCo queue, momentum update and split-batch BatchNorm (MoCo, He et al. 2020, Alg. 1 and §3.3).
#include "cltci/ssl/moco.h"

#include "cltci/common/device.h"
#include "cltci/common/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace cltci::ssl {
namespace {

namespace F = torch::nn::functional;

}  // namespace

MoCoQueue::MoCoQueue(std::int64_t size, std::int64_t dim, c10::Device device) {
  common::require_input(size > 0, "moco queue: size must be > 0, got " + std::to_string(size));
  common::require_input(dim > 0, "moco queue: dim must be > 0, got " + std::to_string(dim));
  const auto options = torch::TensorOptions().device(device);
  keys_ = torch::zeros({size, dim}, options.dtype(torch::kFloat));
  ids_ = torch::full({size}, -1, options.dtype(torch::kLong));
  valid_ = torch::zeros({size}, options.dtype(torch::kBool));
  days_ =
      torch::full({size}, std::numeric_limits<double>::quiet_NaN(), options.dtype(torch::kDouble));
  studies_ = torch::full({size}, -1, options.dtype(torch::kLong));
  images_ = torch::full({size}, -1, options.dtype(torch::kLong));
}

void MoCoQueue::enqueue(const at::Tensor& keys,
                        const at::Tensor& ids,
                        const at::Tensor& days,
                        const at::Tensor& studies,
                        const at::Tensor& images) {
  TORCH_CHECK(keys.dim() == 2 && keys.size(1) == dim(), "moco queue: keys must be [B, ", dim(),
              "], got ", keys.sizes());
  const std::int64_t n = keys.size(0);
  TORCH_CHECK(ids.dim() == 1 && ids.size(0) == n, "moco queue: ids must be [", n, "], got ",
              ids.sizes());
  for (const at::Tensor* column : {&days, &studies, &images}) {
    TORCH_CHECK(!column->defined() || (column->dim() == 1 && column->size(0) == n),
                "moco queue: days, studies and images must be [", n, "], got ", column->sizes());
  }
  const torch::NoGradGuard no_grad;
  const auto unknown = [&](const at::Tensor& like, double value) {
    return torch::full({n}, value, like.options());
  };
  // Slots and what goes into them, column by column; keys are normalised on the way in.
  std::vector<std::pair<at::Tensor*, at::Tensor>> columns{
      {&keys_, F::normalize(keys.detach().to(keys_.device(), torch::kFloat),
                            F::NormalizeFuncOptions().dim(1))},
      {&ids_, ids.to(ids_.device(), torch::kLong)},
      {&valid_, torch::ones({n}, valid_.options())},
      {&days_, days.defined() ? days.to(days_.device(), torch::kDouble)
                              : unknown(days_, std::numeric_limits<double>::quiet_NaN())},
      {&studies_,
       studies.defined() ? studies.to(studies_.device(), torch::kLong) : unknown(studies_, -1)},
      {&images_,
       images.defined() ? images.to(images_.device(), torch::kLong) : unknown(images_, -1)}};
  std::int64_t batch = n;
  if (batch > size()) {
    // Only the newest `size` survive; the pointer advances as if all had been written.
    pointer_ = (pointer_ + batch - size()) % size();
    for (auto& column : columns) column.second = column.second.slice(0, batch - size());
    batch = size();
  }
  const std::int64_t first = std::min(batch, size() - pointer_);
  const std::int64_t rest = batch - first;
  for (auto& [slots, values] : columns) {
    slots->slice(0, pointer_, pointer_ + first).copy_(values.slice(0, 0, first));
    if (rest > 0) slots->slice(0, 0, rest).copy_(values.slice(0, first));
  }
  pointer_ = (pointer_ + batch) % size();
}

std::int64_t MoCoQueue::num_valid() const { return valid_.sum().item<std::int64_t>(); }

MoCoQueueState MoCoQueue::state() const {
  return {keys_.clone(), ids_.clone(),     valid_.clone(), torch::tensor(pointer_, torch::kLong),
          days_.clone(), studies_.clone(), images_.clone()};
}

void MoCoQueue::load_state(const MoCoQueueState& state) {
  TORCH_CHECK(state.keys.defined() && state.keys.sizes() == keys_.sizes(),
              "moco queue state: keys must be ", keys_.sizes(), ", got ",
              state.keys.defined() ? state.keys.sizes() : at::IntArrayRef{});
  TORCH_CHECK(state.ids.defined() && state.ids.sizes() == ids_.sizes(),
              "moco queue state: ids must be ", ids_.sizes());
  TORCH_CHECK(state.valid.defined() && state.valid.sizes() == valid_.sizes(),
              "moco queue state: valid must be ", valid_.sizes());
  TORCH_CHECK(state.pointer.defined() && state.pointer.numel() == 1,
              "moco queue state: pointer must be a single integer");
  for (const at::Tensor* column : {&state.days, &state.studies, &state.images}) {
    TORCH_CHECK(!column->defined() || column->sizes() == ids_.sizes(),
                "moco queue state: days, studies and images must be ", ids_.sizes());
  }
  const auto pointer = state.pointer.item<std::int64_t>();
  TORCH_CHECK(pointer >= 0 && pointer < size(), "moco queue state: pointer ", pointer,
              " outside [0, ", size(), ")");
  const torch::NoGradGuard no_grad;
  keys_.copy_(state.keys);
  ids_.copy_(state.ids);
  valid_.copy_(state.valid);
  if (state.days.defined()) {
    days_.copy_(state.days);
  } else {
    days_.fill_(std::numeric_limits<double>::quiet_NaN());
  }
  if (state.studies.defined()) {
    studies_.copy_(state.studies);
  } else {
    studies_.fill_(-1);
  }
  if (state.images.defined()) {
    images_.copy_(state.images);
  } else {
    images_.fill_(-1);
  }
  pointer_ = pointer;
}

void MoCoQueue::to(c10::Device device) {
  for (at::Tensor* column : {&keys_, &ids_, &valid_, &days_, &studies_, &images_}) {
    *column = column->to(device);
  }
}

namespace {

/// Pairs of (key, query) tensors by name; both modules must have the same names and shapes.
void paired(const torch::OrderedDict<std::string, at::Tensor>& keys,
            const torch::OrderedDict<std::string, at::Tensor>& queries,
            const char* what,
            std::vector<at::Tensor>& key_out,
            std::vector<at::Tensor>& query_out) {
  TORCH_CHECK(keys.size() == queries.size(), "momentum update: key encoder has ", keys.size(), " ",
              what, ", query encoder ", queries.size());
  for (const auto& item : keys) {
    const at::Tensor* query = queries.find(item.key());
    TORCH_CHECK(query != nullptr, "momentum update: query encoder has no ", what, " '", item.key(),
                "'");
    TORCH_CHECK(query->sizes() == item.value().sizes(), "momentum update: ", what, " '", item.key(),
                "' is ", item.value().sizes(), " in the key encoder and ", query->sizes(),
                " in the query encoder");
    key_out.push_back(item.value());
    query_out.push_back(*query);
  }
}

}  // namespace

void momentum_update(torch::nn::Module& key_encoder,
                     const torch::nn::Module& query_encoder,
                     double momentum) {
  common::require_input(momentum >= 0.0 && momentum <= 1.0,
                        "moco: momentum must be in [0, 1], got " + std::to_string(momentum));
  const torch::NoGradGuard no_grad;
  std::vector<at::Tensor> key_params;
  std::vector<at::Tensor> query_params;
  paired(key_encoder.named_parameters(), query_encoder.named_parameters(), "parameters", key_params,
         query_params);
  if (!key_params.empty()) {
    // One multi-tensor kernel per op instead of two small kernels per parameter.
    at::_foreach_mul_(key_params, momentum);
    at::_foreach_add_(key_params, query_params, 1.0 - momentum);
  }
  std::vector<at::Tensor> key_buffers;
  std::vector<at::Tensor> query_buffers;
  paired(key_encoder.named_buffers(), query_encoder.named_buffers(), "buffers", key_buffers,
         query_buffers);
  for (std::size_t b = 0; b < key_buffers.size(); ++b) key_buffers[b].copy_(query_buffers[b]);
}

void init_key_encoder(torch::nn::Module& key_encoder, const torch::nn::Module& query_encoder) {
  // A plain copy rather than momentum_update(..., 0): 0 * key would keep a NaN/inf of the key
  // encoder's initial weights.
  const torch::NoGradGuard no_grad;
  std::vector<at::Tensor> key_tensors;
  std::vector<at::Tensor> query_tensors;
  paired(key_encoder.named_parameters(), query_encoder.named_parameters(), "parameters",
         key_tensors, query_tensors);
  paired(key_encoder.named_buffers(), query_encoder.named_buffers(), "buffers", key_tensors,
         query_tensors);
  for (std::size_t t = 0; t < key_tensors.size(); ++t) key_tensors[t].copy_(query_tensors[t]);
  for (auto& p : key_encoder.parameters()) p.set_requires_grad(false);
}

at::Tensor shuffled_split_forward(const std::function<at::Tensor(const at::Tensor&)>& encoder,
                                  const at::Tensor& batch,
                                  std::int64_t splits,
                                  std::uint64_t seed) {
  TORCH_CHECK(batch.dim() >= 1, "split-batch forward: batch must have a batch dimension");
  const std::int64_t n = batch.size(0);
  common::require_input(splits >= 1 && splits <= std::max<std::int64_t>(1, n),
                        "split-batch BatchNorm: splits must be in [1, batch size " +
                            std::to_string(n) + "], got " + std::to_string(splits));
  if (splits == 1) return encoder(batch);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  // Drawn on the host for reproducibility across devices; uploaded without waiting for the query
  // encoder's queued kernels.
  const at::Tensor permutation = common::to_device_async(
      at::randperm(n, generator, torch::TensorOptions().dtype(torch::kLong)), batch.device(),
      torch::kLong);
  const at::Tensor shuffled = batch.index_select(0, permutation);
  std::vector<at::Tensor> outputs;
  outputs.reserve(static_cast<std::size_t>(splits));
  for (std::int64_t s = 0; s < splits; ++s) {
    // Balanced cut: sizes differ by at most one, so no sub-batch is left with a single sample
    // unless the caller asks for as many splits as samples.
    const std::int64_t begin = n * s / splits;
    const std::int64_t end = n * (s + 1) / splits;
    outputs.push_back(encoder(shuffled.slice(0, begin, end)));
  }
  const at::Tensor joined = at::cat(outputs, 0);
  TORCH_CHECK(joined.size(0) == n, "split-batch forward: encoder changed the batch size");
  at::Tensor inverse = at::empty_like(permutation);
  inverse.index_put_({permutation}, at::arange(n, permutation.options()));
  return joined.index_select(0, inverse);
}

at::Tensor shuffled_split_forward(const std::function<at::Tensor(const at::Tensor&)>& encoder,
                                  const at::Tensor& local_batch,
                                  std::int64_t splits,
                                  std::uint64_t seed,
                                  dist::Group& group) {
  if (!group.distributed()) return shuffled_split_forward(encoder, local_batch, splits, seed);
  const torch::NoGradGuard no_grad;
  TORCH_CHECK(local_batch.dim() >= 1, "split-batch forward: batch must have a batch dimension");
  const std::int64_t world = group.world_size();
  const std::int64_t rank = group.rank();
  const std::int64_t local = local_batch.size(0);
  const std::int64_t n = local * world;
  common::require_input(splits >= world && splits <= n && splits % world == 0,
                        "cross-rank shuffle-BN: splits must be a multiple of the " +
                            std::to_string(world) + " ranks in [" + std::to_string(world) + ", " +
                            std::to_string(n) + "], got " + std::to_string(splits));
  const c10::Device device = local_batch.device();
  const at::Tensor global = group.all_gather(local_batch.to(group.device())).to(device);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor permutation = common::to_device_async(
      at::randperm(n, generator, torch::TensorOptions().dtype(torch::kLong)), device, torch::kLong);
  const at::Tensor shuffled = global.index_select(0, permutation);
  // This rank's sub-batches: the same balanced cuts as the single-process split, and since W
  // divides both n and splits, rank r's run of splits / W of them is rows [r n / W, (r+1) n / W).
  std::vector<at::Tensor> outputs;
  for (std::int64_t s = rank * splits / world; s < (rank + 1) * splits / world; ++s) {
    outputs.push_back(encoder(shuffled.slice(0, n * s / splits, n * (s + 1) / splits)));
  }
  // float32 on the wire: autocast's bf16 outputs widened (the loss computes in float32 anyway).
  at::Tensor mine = at::cat(outputs, 0);
  if (mine.scalar_type() == at::kBFloat16 || mine.scalar_type() == at::kHalf)
    mine = mine.to(at::kFloat);
  TORCH_CHECK(mine.size(0) == local, "split-batch forward: encoder changed the batch size");
  const at::Tensor joined = group.all_gather(mine.contiguous().to(group.device())).to(device);
  at::Tensor inverse = at::empty_like(permutation);
  inverse.index_put_({permutation}, at::arange(n, permutation.options()));
  return joined.index_select(0, inverse).slice(0, rank * local, (rank + 1) * local);
}

}  // namespace cltci::ssl
