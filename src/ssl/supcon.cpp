// Eq. 2 of the paper, twice: a full-matrix reference in plain autograd ops, and a chunked
// autograd function whose memory is O(chunk x Nk) in forward and backward (design:
// docs/losses.md, after Inf-CL's split of the loss into an O(N) positive term and a row LSE).
#include "cltci/ssl/supcon.h"

#include "cltci/common/error.h"
#include "ssl/supcon_kernels.h"

#include <torch/torch.h>

#include <limits>
#include <string>

namespace cltci::ssl {
namespace {

namespace F = torch::nn::functional;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

at::ScalarType accumulate_type(at::ScalarType t) {
  return t == at::kDouble ? at::kDouble : at::kFloat;
}

/// TF32 would round the 128-wide dot products to a 10-bit mantissa before they are divided by a
/// small tau and exponentiated; keep IEEE fp32 for the similarity matmuls unless asked.
class Tf32Scope {
 public:
  Tf32Scope(bool on_cuda, bool allow) : active_(on_cuda) {
    if (active_) {
      previous_ = at::globalContext().allowTF32CuBLAS();
      at::globalContext().setAllowTF32CuBLAS(allow);
    }
  }
  ~Tf32Scope() {
    if (active_) at::globalContext().setAllowTF32CuBLAS(previous_);
  }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;

 private:
  bool active_;
  bool previous_ = false;
};

/// Everything the chunked function needs besides its differentiable inputs.
struct ChunkedConfig {
  double temperature = 0.1;
  double scale = 1.0;
  std::int64_t chunk_rows = 1;
  bool has_self = false;
  std::int64_t self_offset = 0;
  bool match_ids = true;
  bool allow_tf32 = false;
  bool has_own = false;
  // Not differentiable, so not autograd inputs (which may not be undefined either).
  at::Tensor anchor_ids;
  at::Tensor key_ids;
  at::Tensor key_valid;
};

class ChunkedContrastive : public torch::autograd::Function<ChunkedContrastive> {
 public:
  // anchors/keys/own are unit rows in the accumulation dtype; own is [0] without own keys.
  static at::Tensor forward(AutogradContext* ctx,
                            const at::Tensor& anchors,
                            const at::Tensor& keys,
                            const at::Tensor& own,
                            const ChunkedConfig& config) {
    const at::Tensor& anchor_ids = config.anchor_ids;
    const at::Tensor& key_ids = config.key_ids;
    const at::Tensor& key_valid = config.key_valid;
    const Tf32Scope tf32(anchors.is_cuda(), config.allow_tf32);
    const std::int64_t n = anchors.size(0);
    const double inv_tau = 1.0 / config.temperature;
    const at::Tensor keys_t = keys.t();
    at::Tensor lse = at::empty({n}, anchors.options());
    at::Tensor pos_sum = at::empty({n}, anchors.options());
    at::Tensor pos_count = at::empty({n}, anchors.options());
    at::Tensor own_logit;
    if (config.has_own) own_logit = (anchors * own).sum(1) * inv_tau;
    for (std::int64_t r0 = 0; r0 < n; r0 += config.chunk_rows) {
      const std::int64_t r1 = std::min(n, r0 + config.chunk_rows);
      at::Tensor logits = at::mm(anchors.slice(0, r0, r1) * inv_tau, keys_t);
      const detail::ChunkMask mask = chunk_mask(config, anchor_ids, key_ids, key_valid, r0, r1);
      detail::ChunkStats stats = detail::chunk_forward_stats(logits, mask);
      lse.slice(0, r0, r1).copy_(stats.lse);
      pos_sum.slice(0, r0, r1).copy_(stats.pos_sum);
      pos_count.slice(0, r0, r1).copy_(stats.pos_count);
    }
    if (config.has_own) {
      // MoCo's k+ column: part of the denominator and always a positive.
      lse = at::logaddexp(lse, own_logit);
      pos_sum += own_logit;
      pos_count += 1;
    }
    const at::Tensor included = pos_count > 0;
    // A row without positives may also lack kept keys (lse = -inf); any finite value serves it,
    // since its weight is 0 in backward.
    lse = at::where(included, lse, at::zeros({}, lse.options()));
    const at::Tensor inv_count =
        at::where(included, pos_count.reciprocal(), at::zeros({}, pos_count.options()));
    const at::Tensor per_anchor = (lse - pos_sum * inv_count) * included;
    const at::Tensor num_included = included.sum().clamp_min(1).to(anchors.scalar_type());
    ctx->save_for_backward({anchors, keys, own});
    ctx->saved_data["anchor_ids"] = anchor_ids;
    ctx->saved_data["key_ids"] = key_ids;
    ctx->saved_data["key_valid"] = key_valid;
    ctx->saved_data["lse"] = lse;
    ctx->saved_data["inv_count"] = inv_count;
    // Per-row weight of dLoss/dlogits before the incoming gradient: scale / |included|, 0 for
    // rows left out of the mean; 1/tau folds the logits' scaling into the matmuls.
    ctx->saved_data["row_weight"] =
        included.to(anchors.scalar_type()) * (config.scale * inv_tau) / num_included;
    ctx->saved_data["own_logit"] = own_logit;
    ctx->saved_data["temperature"] = config.temperature;
    ctx->saved_data["scale"] = config.scale;
    ctx->saved_data["chunk_rows"] = config.chunk_rows;
    ctx->saved_data["has_self"] = config.has_self;
    ctx->saved_data["self_offset"] = config.self_offset;
    ctx->saved_data["match_ids"] = config.match_ids;
    ctx->saved_data["allow_tf32"] = config.allow_tf32;
    ctx->saved_data["has_own"] = config.has_own;
    return per_anchor.sum() * config.scale / num_included;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& anchors = saved[0];
    const at::Tensor& keys = saved[1];
    const at::Tensor& own = saved[2];
    ChunkedConfig config;
    config.temperature = ctx->saved_data["temperature"].toDouble();
    config.scale = ctx->saved_data["scale"].toDouble();
    config.chunk_rows = ctx->saved_data["chunk_rows"].toInt();
    config.has_self = ctx->saved_data["has_self"].toBool();
    config.self_offset = ctx->saved_data["self_offset"].toInt();
    config.match_ids = ctx->saved_data["match_ids"].toBool();
    config.allow_tf32 = ctx->saved_data["allow_tf32"].toBool();
    config.has_own = ctx->saved_data["has_own"].toBool();
    const at::Tensor anchor_ids = saved_tensor(ctx, "anchor_ids");
    const at::Tensor key_ids = saved_tensor(ctx, "key_ids");
    const at::Tensor key_valid = saved_tensor(ctx, "key_valid");
    const at::Tensor lse = ctx->saved_data["lse"].toTensor();
    const at::Tensor inv_count = ctx->saved_data["inv_count"].toTensor();
    const at::Tensor weight =
        ctx->saved_data["row_weight"].toTensor() * grad_outputs[0].to(anchors.scalar_type());
    const Tf32Scope tf32(anchors.is_cuda(), config.allow_tf32);

    const bool need_anchors = ctx->needs_input_grad(0);
    const bool need_keys = ctx->needs_input_grad(1);
    const bool need_own = config.has_own && ctx->needs_input_grad(2);
    const std::int64_t n = anchors.size(0);
    const double inv_tau = 1.0 / config.temperature;
    const at::Tensor keys_t = keys.t();
    at::Tensor grad_anchors = need_anchors ? at::zeros_like(anchors) : at::Tensor();
    at::Tensor grad_keys = need_keys ? at::zeros_like(keys) : at::Tensor();
    at::Tensor grad_own;
    if (config.has_own) {
      // d/d(own logit) = (softmax of the k+ column - 1/|P|) * weight.
      const at::Tensor own_logit = saved_tensor(ctx, "own_logit");
      const at::Tensor own_coef = ((own_logit - lse).exp() - inv_count) * weight;
      if (need_anchors) grad_anchors.addcmul_(own, own_coef.unsqueeze(1));
      if (need_own) grad_own = anchors * own_coef.unsqueeze(1);
    }
    if (need_anchors || need_keys) {
      for (std::int64_t r0 = 0; r0 < n; r0 += config.chunk_rows) {
        const std::int64_t r1 = std::min(n, r0 + config.chunk_rows);
        const at::Tensor anchors_c = anchors.slice(0, r0, r1);
        // Recomputed rather than stored: keeping the logits would cost the N x Nk we avoid.
        at::Tensor coef = at::mm(anchors_c * inv_tau, keys_t);
        const detail::ChunkMask mask = chunk_mask(config, anchor_ids, key_ids, key_valid, r0, r1);
        detail::chunk_backward_coefficients(coef, mask, lse.slice(0, r0, r1),
                                            inv_count.slice(0, r0, r1), weight.slice(0, r0, r1));
        if (need_anchors) grad_anchors.slice(0, r0, r1).addmm_(coef, keys);
        if (need_keys) grad_keys.addmm_(coef.t(), anchors_c);
      }
    }
    return {grad_anchors, grad_keys, grad_own, at::Tensor()};
  }

 private:
  // Undefined tensors (absent ids or mask) round-trip through saved_data as None.
  static at::Tensor saved_tensor(AutogradContext* ctx, const std::string& name) {
    const c10::IValue& value = ctx->saved_data.at(name);
    return value.isTensor() ? value.toTensor() : at::Tensor();
  }

  static detail::ChunkMask chunk_mask(const ChunkedConfig& config,
                                      const at::Tensor& anchor_ids,
                                      const at::Tensor& key_ids,
                                      const at::Tensor& key_valid,
                                      std::int64_t r0,
                                      std::int64_t r1) {
    detail::ChunkMask mask;
    mask.match_ids = config.match_ids;
    if (config.match_ids) {
      mask.anchor_ids = anchor_ids.slice(0, r0, r1);
      mask.key_ids = key_ids;
    }
    mask.key_valid = key_valid;
    mask.has_self = config.has_self;
    mask.self_col0 = config.self_offset + r0;
    return mask;
  }
};

/// Reference path: the whole [Nq, Nk] logit matrix with plain autograd ops.
at::Tensor full_loss(const at::Tensor& anchors,
                     const at::Tensor& keys,
                     const at::Tensor& own,
                     const ChunkedConfig& config) {
  const at::Tensor& anchor_ids = config.anchor_ids;
  const at::Tensor& key_ids = config.key_ids;
  const at::Tensor& key_valid = config.key_valid;
  const Tf32Scope tf32(anchors.is_cuda(), config.allow_tf32);
  const std::int64_t nq = anchors.size(0);
  const std::int64_t nk = keys.size(0);
  const auto bool_options = anchors.options().dtype(at::kBool);
  at::Tensor logits = at::mm(anchors, keys.t()) / config.temperature;
  at::Tensor keep = at::ones({nq, nk}, bool_options);
  if (key_valid.defined()) keep = keep & key_valid.unsqueeze(0);
  if (config.has_self) {
    const at::Tensor rows = at::arange(nq, anchors.options().dtype(at::kLong));
    const at::Tensor cols = rows.unsqueeze(1) + config.self_offset;
    keep = keep & (at::arange(nk, rows.options()).unsqueeze(0) != cols);
  }
  at::Tensor positive = at::zeros({nq, nk}, bool_options);
  if (config.match_ids) positive = keep & (anchor_ids.unsqueeze(1) == key_ids.unsqueeze(0));
  if (own.defined()) {
    logits = at::cat({((anchors * own).sum(1) / config.temperature).unsqueeze(1), logits}, 1);
    keep = at::cat({at::ones({nq, 1}, bool_options), keep}, 1);
    positive = at::cat({at::ones({nq, 1}, bool_options), positive}, 1);
  }
  // Rows with no kept key get 0 instead of -inf so their LSE (and its gradient) stays finite;
  // they have no positive and are left out below.
  const at::Tensor fill =
      at::where(keep.any(1, true), at::scalar_tensor(kMinusInf, logits.options()),
                at::zeros({}, logits.options()));
  const at::Tensor masked = at::where(keep, logits, fill);
  const at::Tensor lse = at::logsumexp(masked, {1});
  const at::Tensor count = positive.sum(1).to(logits.scalar_type());
  const at::Tensor pos_sum = at::where(positive, logits, at::zeros({}, logits.options())).sum(1);
  const at::Tensor included = count > 0;
  const at::Tensor per_anchor =
      at::where(included, lse - pos_sum / count.clamp_min(1), at::zeros({}, lse.options()));
  const at::Tensor num_included = included.sum().clamp_min(1).to(logits.scalar_type());
  return per_anchor.sum() * config.scale / num_included;
}

void check_options(const SupConOptions& options) {
  std::vector<std::string> problems;
  if (!(options.temperature > 0.0) || !std::isfinite(options.temperature)) {
    problems.push_back("contrastive loss: temperature must be a finite number > 0, got " +
                       std::to_string(options.temperature));
  }
  if (options.base_temperature &&
      (!(*options.base_temperature > 0.0) || !std::isfinite(*options.base_temperature))) {
    problems.push_back("contrastive loss: base_temperature must be a finite number > 0, got " +
                       std::to_string(*options.base_temperature));
  }
  if (options.memory_budget_bytes <= 0) {
    problems.push_back("contrastive loss: memory_budget_bytes must be > 0");
  }
  if (options.chunk_rows < 0) problems.push_back("contrastive loss: chunk_rows must be >= 0");
  if (!problems.empty()) throw common::InputError(std::move(problems));
}

at::Tensor ids_or_check(const at::Tensor& ids,
                        std::int64_t n,
                        const char* what,
                        const at::Device& device) {
  TORCH_CHECK(ids.defined(), "contrastive loss: ", what, " are required when matching ids");
  TORCH_CHECK(ids.dim() == 1 && ids.size(0) == n, "contrastive loss: ", what, " must have shape [",
              n, "], got ", ids.sizes());
  TORCH_CHECK(!at::isFloatingType(ids.scalar_type()) && ids.scalar_type() != at::kBool,
              "contrastive loss: ", what, " must be integer (patient ids), got ",
              ids.scalar_type());
  return ids.to(device, at::kLong).contiguous();
}

}  // namespace

std::int64_t chunk_rows_for_budget(std::int64_t num_keys,
                                   std::int64_t budget_bytes,
                                   std::int64_t bytes_per_logit) {
  const std::int64_t row_bytes = std::max<std::int64_t>(1, num_keys) * bytes_per_logit;
  return std::max<std::int64_t>(1, budget_bytes / row_bytes);
}

at::Tensor contrastive_loss(const ContrastiveInputs& inputs, const SupConOptions& options) {
  check_options(options);
  const at::Tensor& q = inputs.anchors;
  const at::Tensor& k = inputs.keys;
  TORCH_CHECK(q.defined() && q.dim() == 2, "contrastive loss: anchors must be [N, D]");
  TORCH_CHECK(k.defined() && k.dim() == 2 && k.size(1) == q.size(1),
              "contrastive loss: keys must be [K, ", q.size(1), "], got ", k.sizes());
  TORCH_CHECK(at::isFloatingType(q.scalar_type()) && at::isFloatingType(k.scalar_type()),
              "contrastive loss: features must be floating point");
  TORCH_CHECK(q.device() == k.device(), "contrastive loss: anchors and keys on different devices");
  const std::int64_t nq = q.size(0);
  const std::int64_t nk = k.size(0);
  const at::ScalarType acc = accumulate_type(q.scalar_type());

  at::Tensor anchor_ids;
  at::Tensor key_ids;
  if (inputs.match_ids) {
    anchor_ids = ids_or_check(inputs.anchor_ids, nq, "anchor ids", q.device());
    key_ids = ids_or_check(inputs.key_ids, nk, "key ids", q.device());
  }
  at::Tensor key_valid;
  if (inputs.key_valid.defined()) {
    TORCH_CHECK(inputs.key_valid.dim() == 1 && inputs.key_valid.size(0) == nk,
                "contrastive loss: key_valid must have shape [", nk, "], got ",
                inputs.key_valid.sizes());
    key_valid = inputs.key_valid.to(q.device(), at::kBool).contiguous();
  }
  at::Tensor own;
  if (inputs.own_keys.defined()) {
    TORCH_CHECK(inputs.own_keys.sizes() == q.sizes(), "contrastive loss: own_keys must be ",
                q.sizes(), ", got ", inputs.own_keys.sizes());
    own = inputs.own_keys.to(acc);
  }

  at::Tensor anchors = q.to(acc);
  at::Tensor keys = k.to(acc);
  if (options.normalize) {
    // When keys are the anchors (SimCLR) normalise once so autograd sees one shared node.
    const bool same = q.is_same(k);
    anchors = F::normalize(anchors, F::NormalizeFuncOptions().dim(1));
    keys = same ? anchors : F::normalize(keys, F::NormalizeFuncOptions().dim(1));
    if (own.defined()) own = F::normalize(own, F::NormalizeFuncOptions().dim(1));
  }

  ChunkedConfig config;
  config.temperature = options.temperature;
  config.scale = options.base_temperature ? options.temperature / *options.base_temperature : 1.0;
  config.has_self = inputs.self_offset.has_value();
  config.self_offset = inputs.self_offset.value_or(0);
  config.match_ids = inputs.match_ids;
  config.allow_tf32 = options.allow_tf32;
  config.has_own = own.defined();
  config.anchor_ids = anchor_ids;
  config.key_ids = key_ids;
  config.key_valid = key_valid;

  const std::int64_t elem = static_cast<std::int64_t>(c10::elementSize(acc));
  LossPath path = options.path;
  if (path == LossPath::kAuto) {
    // The full path keeps about six [Nq, Nk] temporaries alive for backward.
    const double full_bytes = 6.0 * static_cast<double>(nq) * static_cast<double>(nk) * elem;
    path = full_bytes <= static_cast<double>(options.memory_budget_bytes) ? LossPath::kFull
                                                                          : LossPath::kChunked;
  }
  if (path == LossPath::kFull) {
    return full_loss(anchors, keys, own, config);
  }
  // One chunk holds its logits plus ATen's LSE temporary on the CPU.
  std::int64_t rows = options.chunk_rows > 0
                          ? options.chunk_rows
                          : chunk_rows_for_budget(nk, options.memory_budget_bytes, 2 * elem);
  if (q.is_cuda()) rows = std::min<std::int64_t>(rows, 65535);  // grid.y of the CUDA kernel
  config.chunk_rows = std::max<std::int64_t>(1, std::min(rows, std::max<std::int64_t>(1, nq)));
  return ChunkedContrastive::apply(anchors, keys,
                                   own.defined() ? own : at::empty({0}, anchors.options()), config);
}

at::Tensor supcon_loss(const at::Tensor& features,
                       const at::Tensor& labels,
                       const SupConOptions& options) {
  TORCH_CHECK(features.defined() && features.dim() == 3,
              "supcon loss: features must be [N, V, D] (V views per image), got ",
              features.defined() ? features.sizes() : at::IntArrayRef{});
  const std::int64_t n = features.size(0);
  const std::int64_t views = features.size(1);
  // View-major order [view 0 of all images; view 1; ...] so view v of image i is row v*N + i.
  const at::Tensor flat = features.transpose(0, 1).reshape({n * views, features.size(2)});
  at::Tensor image_labels;
  if (labels.defined()) {
    TORCH_CHECK(labels.dim() == 1 && labels.size(0) == n, "supcon loss: labels must be [", n,
                "], got ", labels.sizes());
    TORCH_CHECK(!at::isFloatingType(labels.scalar_type()) && labels.scalar_type() != at::kBool,
                "supcon loss: labels must be integer patient ids, got ", labels.scalar_type());
    image_labels = labels.to(features.device(), at::kLong);
  } else {
    image_labels = at::arange(n, features.options().dtype(at::kLong));
  }
  const at::Tensor ids = image_labels.repeat({views});
  ContrastiveInputs inputs;
  inputs.anchors = flat;
  inputs.keys = flat;
  inputs.anchor_ids = ids;
  inputs.key_ids = ids;
  inputs.self_offset = 0;
  return contrastive_loss(inputs, options);
}

at::Tensor moco_loss(const at::Tensor& queries,
                     const at::Tensor& keys,
                     const at::Tensor& query_ids,
                     const at::Tensor& queue_keys,
                     const at::Tensor& queue_ids,
                     const at::Tensor& queue_valid,
                     MoCoPositives positives,
                     const SupConOptions& options) {
  ContrastiveInputs inputs;
  inputs.anchors = queries;
  inputs.keys = queue_keys.detach();
  inputs.own_keys = keys.detach();
  inputs.key_valid = queue_valid;
  inputs.match_ids = positives == MoCoPositives::kPatient;
  if (inputs.match_ids) {
    inputs.anchor_ids = query_ids;
    inputs.key_ids = queue_ids;
  }
  return contrastive_loss(inputs, options);
}

}  // namespace cltci::ssl
