// Eq. 2 of the paper, twice: a full-matrix reference in plain autograd ops, and a chunked
// autograd function whose memory is O(chunk x Nk) in forward and backward (design:
// docs/losses.md, after Inf-CL's split of the loss into an O(N) positive term and a row LSE).
#include "cltci/ssl/supcon.h"

#include "cltci/common/error.h"
#include "cltci/ssl/positives.h"
#include "ssl/supcon_kernels.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

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

/// The checked per-row / per-key tensors of ContrastiveInputs, on the features' device and
/// contiguous, in the dtypes the kernels read (int64 ids, studies and images; float64 days; bool
/// validity). Undefined where not used.
struct Attributes {
  at::Tensor anchor_ids;
  at::Tensor key_ids;
  at::Tensor key_valid;
  at::Tensor anchor_days;
  at::Tensor key_days;
  at::Tensor anchor_studies;
  at::Tensor key_studies;
  at::Tensor anchor_images;
  at::Tensor key_images;

  PairAttributes anchors(std::int64_t r0, std::int64_t r1) const {
    return {slice(anchor_ids, r0, r1), slice(anchor_days, r0, r1), slice(anchor_studies, r0, r1),
            slice(anchor_images, r0, r1)};
  }
  PairAttributes keys() const { return {key_ids, key_days, key_studies, key_images}; }

  static at::Tensor slice(const at::Tensor& t, std::int64_t r0, std::int64_t r1) {
    return t.defined() ? t.slice(0, r0, r1) : t;
  }
};

/// The Attributes fields by name, for saving them across forward and backward.
constexpr std::array<std::pair<const char*, at::Tensor Attributes::*>, 9> kAttributeFields{{
    {"anchor_ids", &Attributes::anchor_ids},
    {"key_ids", &Attributes::key_ids},
    {"key_valid", &Attributes::key_valid},
    {"anchor_days", &Attributes::anchor_days},
    {"key_days", &Attributes::key_days},
    {"anchor_studies", &Attributes::anchor_studies},
    {"key_studies", &Attributes::key_studies},
    {"anchor_images", &Attributes::anchor_images},
    {"key_images", &Attributes::key_images},
}};

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
  PositiveOptions positives;
  // Not differentiable, so not autograd inputs (which may not be undefined either).
  Attributes attributes;
};

/// [rows, Nk] bool: key j counts for anchor r0 + i (valid and not the anchor itself).
at::Tensor keep_mask(std::int64_t r0,
                     std::int64_t r1,
                     std::int64_t nk,
                     const at::Tensor& key_valid,
                     bool has_self,
                     std::int64_t self_offset,
                     const at::TensorOptions& options) {
  at::Tensor keep = at::ones({r1 - r0, nk}, options.dtype(at::kBool));
  if (key_valid.defined()) keep = keep & key_valid.unsqueeze(0);
  if (has_self) {
    const at::Tensor rows = at::arange(r0, r1, options.dtype(at::kLong));
    const at::Tensor cols = rows.unsqueeze(1) + self_offset;
    keep = keep & (at::arange(nk, rows.options()).unsqueeze(0) != cols);
  }
  return keep;
}

class ChunkedContrastive : public torch::autograd::Function<ChunkedContrastive> {
 public:
  // anchors/keys/own are unit rows in the accumulation dtype; own is [0] without own keys.
  static at::Tensor forward(AutogradContext* ctx,
                            const at::Tensor& anchors,
                            const at::Tensor& keys,
                            const at::Tensor& own,
                            const ChunkedConfig& config) {
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
      const detail::ChunkMask mask = chunk_mask(config, r0, r1);
      detail::ChunkStats stats = detail::chunk_forward_stats(logits, mask);
      lse.slice(0, r0, r1).copy_(stats.lse);
      pos_sum.slice(0, r0, r1).copy_(stats.pos_sum);
      pos_count.slice(0, r0, r1).copy_(stats.pos_count);
    }
    if (config.has_own) {
      // MoCo's k+ column: part of the denominator and always a positive of weight 1.
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
    for (const auto& [name, field] : kAttributeFields) {
      ctx->saved_data[name] = config.attributes.*field;
    }
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
    ctx->saved_data["rule"] = static_cast<std::int64_t>(config.positives.rule);
    ctx->saved_data["max_days"] = config.positives.max_days;
    ctx->saved_data["time_scale_days"] = config.positives.time_scale_days;
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
    config.positives.rule = static_cast<PositiveRule>(ctx->saved_data["rule"].toInt());
    config.positives.max_days = ctx->saved_data["max_days"].toDouble();
    config.positives.time_scale_days = ctx->saved_data["time_scale_days"].toDouble();
    for (const auto& [name, field] : kAttributeFields) {
      config.attributes.*field = saved_tensor(ctx, name);
    }
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
      // d/d(own logit) = (softmax of the k+ column - 1/sum(w)) * weight (k+ has w = 1).
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
        const detail::ChunkMask mask = chunk_mask(config, r0, r1);
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
                                      std::int64_t r0,
                                      std::int64_t r1) {
    const Attributes& a = config.attributes;
    detail::ChunkMask mask;
    mask.match_ids = config.match_ids;
    if (config.match_ids) {
      mask.anchor_ids = a.anchor_ids.slice(0, r0, r1);
      mask.key_ids = a.key_ids;
      mask.rule = config.positives.rule;
      mask.max_days = config.positives.max_days;
      mask.time_scale_days = config.positives.time_scale_days;
      mask.anchor_days = Attributes::slice(a.anchor_days, r0, r1);
      mask.key_days = a.key_days;
      mask.anchor_studies = Attributes::slice(a.anchor_studies, r0, r1);
      mask.key_studies = a.key_studies;
      mask.anchor_images = Attributes::slice(a.anchor_images, r0, r1);
      mask.key_images = a.key_images;
    }
    mask.key_valid = a.key_valid;
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
  const Tf32Scope tf32(anchors.is_cuda(), config.allow_tf32);
  const std::int64_t nq = anchors.size(0);
  const std::int64_t nk = keys.size(0);
  const auto bool_options = anchors.options().dtype(at::kBool);
  at::Tensor logits = at::mm(anchors, keys.t()) / config.temperature;
  at::Tensor keep = keep_mask(0, nq, nk, config.attributes.key_valid, config.has_self,
                              config.self_offset, anchors.options());
  const at::Tensor zero = at::zeros({}, logits.options());
  at::Tensor weights = at::zeros({nq, nk}, logits.options());
  if (config.match_ids) {
    weights = at::where(keep,
                        positive_weights(config.positives, config.attributes.anchors(0, nq),
                                         config.attributes.keys(), logits.scalar_type()),
                        zero);
  }
  if (own.defined()) {
    logits = at::cat({((anchors * own).sum(1) / config.temperature).unsqueeze(1), logits}, 1);
    keep = at::cat({at::ones({nq, 1}, bool_options), keep}, 1);
    weights = at::cat({at::ones({nq, 1}, logits.options()), weights}, 1);
  }
  // Rows with no kept key get 0 instead of -inf so their LSE (and its gradient) stays finite;
  // they have no positive and are left out below.
  const at::Tensor fill =
      at::where(keep.any(1, true), at::scalar_tensor(kMinusInf, logits.options()),
                at::zeros({}, logits.options()));
  const at::Tensor masked = at::where(keep, logits, fill);
  const at::Tensor lse = at::logsumexp(masked, {1});
  // With 0/1 weights these are today's positive count and sum, bit for bit (x * 1 and x * 0 are
  // exact, and the sums run in the same order).
  const at::Tensor count = weights.sum(1);
  const at::Tensor pos_sum = (weights * logits).sum(1);
  const at::Tensor included = count > 0;
  // Not clamp_min(1): a weighted anchor's weights may sum to less than 1.
  const at::Tensor per_anchor =
      at::where(included, lse - pos_sum / at::where(included, count, at::ones({}, count.options())),
                at::zeros({}, lse.options()));
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

/// An integer attribute (ids, studies, images) as contiguous int64 [n] on `device`.
at::Tensor integer_column(const at::Tensor& values,
                          std::int64_t n,
                          const char* what,
                          const at::Device& device) {
  TORCH_CHECK(values.dim() == 1 && values.size(0) == n, "contrastive loss: ", what,
              " must have shape [", n, "], got ", values.sizes());
  TORCH_CHECK(!at::isFloatingType(values.scalar_type()) && values.scalar_type() != at::kBool,
              "contrastive loss: ", what, " must be integer, got ", values.scalar_type());
  return values.to(device, at::kLong).contiguous();
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

at::Tensor days_or_check(const at::Tensor& days,
                         std::int64_t n,
                         const char* what,
                         const at::Device& device,
                         PositiveRule rule) {
  TORCH_CHECK(days.defined(), "contrastive loss: positives '", to_string(rule), "' need ", what,
              " (acquisition times in days, NaN = undated), none given");
  TORCH_CHECK(days.dim() == 1 && days.size(0) == n, "contrastive loss: ", what,
              " must have shape [", n, "], got ", days.sizes());
  TORCH_CHECK(at::isFloatingType(days.scalar_type()), "contrastive loss: ", what,
              " must be floating point (days), got ", days.scalar_type());
  // Float64 whatever the logits: days since an epoch lose whole hours in float.
  return days.to(device, at::kDouble).contiguous();
}

/// Checks and converts what the positive rule and the masks read (ContrastiveInputs' doc).
Attributes prepare_attributes(const ContrastiveInputs& inputs,
                              const PositiveOptions& positives,
                              std::int64_t nq,
                              std::int64_t nk,
                              const at::Device& device) {
  Attributes a;
  if (inputs.key_valid.defined()) {
    TORCH_CHECK(inputs.key_valid.dim() == 1 && inputs.key_valid.size(0) == nk,
                "contrastive loss: key_valid must have shape [", nk, "], got ",
                inputs.key_valid.sizes());
    a.key_valid = inputs.key_valid.to(device, at::kBool).contiguous();
  }
  if (!inputs.match_ids) return a;
  a.anchor_ids = ids_or_check(inputs.anchor_ids, nq, "anchor ids", device);
  a.key_ids = ids_or_check(inputs.key_ids, nk, "key ids", device);
  if (positives.needs_days()) {
    a.anchor_days = days_or_check(inputs.anchor_days, nq, "anchor days", device, positives.rule);
    a.key_days = days_or_check(inputs.key_days, nk, "key days", device, positives.rule);
  }
  if (positives.needs_studies()) {
    TORCH_CHECK(inputs.anchor_studies.defined() && inputs.key_studies.defined(),
                "contrastive loss: positives '", to_string(positives.rule),
                "' need anchor and key studies (-1 = unknown), none given");
    a.anchor_studies = integer_column(inputs.anchor_studies, nq, "anchor studies", device);
    a.key_studies = integer_column(inputs.key_studies, nk, "key studies", device);
  }
  if (inputs.anchor_images.defined() || inputs.key_images.defined()) {
    TORCH_CHECK(inputs.anchor_images.defined() && inputs.key_images.defined(),
                "contrastive loss: give image identities for both anchors and keys or neither");
    a.anchor_images = integer_column(inputs.anchor_images, nq, "anchor images", device);
    a.key_images = integer_column(inputs.key_images, nk, "key images", device);
  }
  return a;
}

void check_features(const at::Tensor& q, const at::Tensor& k) {
  TORCH_CHECK(q.defined() && q.dim() == 2, "contrastive loss: anchors must be [N, D]");
  TORCH_CHECK(k.defined() && k.dim() == 2 && k.size(1) == q.size(1),
              "contrastive loss: keys must be [K, ", q.size(1), "], got ", k.sizes());
  TORCH_CHECK(at::isFloatingType(q.scalar_type()) && at::isFloatingType(k.scalar_type()),
              "contrastive loss: features must be floating point");
  TORCH_CHECK(q.device() == k.device(), "contrastive loss: anchors and keys on different devices");
}

/// A per-image [n] attribute of supcon_loss, checked, on `device`, repeated for the V views.
at::Tensor per_view(const at::Tensor& values,
                    std::int64_t n,
                    std::int64_t views,
                    const char* what,
                    at::ScalarType type,
                    const at::Device& device) {
  if (!values.defined()) return values;
  TORCH_CHECK(values.dim() == 1 && values.size(0) == n, "supcon loss: ", what, " must be [", n,
              "], got ", values.sizes());
  if (type == at::kDouble) {
    TORCH_CHECK(at::isFloatingType(values.scalar_type()), "supcon loss: ", what,
                " must be floating point, got ", values.scalar_type());
  } else {
    TORCH_CHECK(!at::isFloatingType(values.scalar_type()) && values.scalar_type() != at::kBool,
                "supcon loss: ", what, " must be integer, got ", values.scalar_type());
  }
  return values.to(device, type).repeat({views});
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
  if (inputs.match_ids) check_positive_options(options.positives);
  const at::Tensor& q = inputs.anchors;
  const at::Tensor& k = inputs.keys;
  check_features(q, k);
  const std::int64_t nq = q.size(0);
  const std::int64_t nk = k.size(0);
  const at::ScalarType acc = accumulate_type(q.scalar_type());
  Attributes attributes = prepare_attributes(inputs, options.positives, nq, nk, q.device());

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
  config.positives = options.positives;
  config.attributes = std::move(attributes);

  const auto elem = static_cast<std::int64_t>(c10::elementSize(acc));
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

ContrastiveInputs supcon_contrastive_inputs(const at::Tensor& features,
                                            const PairAttributes& images) {
  TORCH_CHECK(features.defined() && features.dim() == 3,
              "supcon loss: features must be [N, V, D] (V views per image), got ",
              features.defined() ? features.sizes() : at::IntArrayRef{});
  const std::int64_t n = features.size(0);
  const std::int64_t views = features.size(1);
  const at::Device device = features.device();
  const auto long_options = features.options().dtype(at::kLong);
  // View-major order [view 0 of all images; view 1; ...] so view v of image i is row v*N + i.
  const at::Tensor flat = features.transpose(0, 1).reshape({n * views, features.size(2)});
  at::Tensor ids = per_view(images.ids, n, views, "labels (patient ids)", at::kLong, device);
  if (!ids.defined()) ids = at::arange(n, long_options).repeat({views});
  // Identity of the batch entry: its index, or the first entry with the same known image.
  at::Tensor entry = at::arange(n, long_options);
  if (images.images.defined()) {
    TORCH_CHECK(images.images.dim() == 1 && images.images.size(0) == n,
                "supcon loss: images must "
                "be [",
                n, "], got ", images.images.sizes());
    TORCH_CHECK(!at::isFloatingType(images.images.scalar_type()) &&
                    images.images.scalar_type() != at::kBool,
                "supcon loss: images must be integer, got ", images.images.scalar_type());
    const at::Tensor given = images.images.to(device, at::kLong);
    const at::Tensor same =
        ((given.unsqueeze(1) == given.unsqueeze(0)) & (given >= 0).unsqueeze(1)) |
        at::eye(n, long_options.dtype(at::kBool));
    entry = at::where(same, entry.unsqueeze(0), at::full({}, n, long_options)).amin(1);
  }
  ContrastiveInputs inputs;
  inputs.anchors = flat;
  inputs.keys = flat;
  inputs.anchor_ids = ids;
  inputs.key_ids = ids;
  inputs.self_offset = 0;
  inputs.anchor_days = per_view(images.days, n, views, "days", at::kDouble, device);
  inputs.key_days = inputs.anchor_days;
  inputs.anchor_studies = per_view(images.studies, n, views, "studies", at::kLong, device);
  inputs.key_studies = inputs.anchor_studies;
  // Views of one image are always positives, whatever the rule and the image's time or study.
  inputs.anchor_images = entry.repeat({views});
  inputs.key_images = inputs.anchor_images;
  return inputs;
}

ContrastiveInputs rank_anchors(const ContrastiveInputs& all,
                               std::int64_t views,
                               std::int64_t rank,
                               std::int64_t world) {
  TORCH_CHECK(views >= 1 && world >= 1 && rank >= 0 && rank < world,
              "rank_anchors: needs views >= 1 and 0 <= rank < world, got views ", views, ", rank ",
              rank, " of ", world);
  const std::int64_t rows = all.keys.size(0);
  TORCH_CHECK(rows % (views * world) == 0, "rank_anchors: ", rows, " views are not ", views,
              " views of images shared equally by ", world, " ranks");
  const std::int64_t images = rows / views;
  const std::int64_t local = images / world;
  const auto long_options = all.keys.options().dtype(at::kLong);
  std::vector<at::Tensor> blocks;
  for (std::int64_t s = 0; s < world; ++s) {
    for (std::int64_t v = 0; v < views; ++v) {
      blocks.push_back(
          at::arange(v * images + s * local, v * images + (s + 1) * local, long_options));
    }
  }
  const at::Tensor order = at::cat(blocks);
  const auto reorder = [&](const at::Tensor& column) {
    return column.defined() ? column.index_select(0, order.to(column.device())) : column;
  };
  const std::int64_t begin = rank * views * local;
  const std::int64_t end = begin + views * local;
  const auto mine = [&](const at::Tensor& column) {
    return column.defined() ? column.slice(0, begin, end) : column;
  };
  ContrastiveInputs part;
  part.keys = reorder(all.keys);
  part.key_ids = reorder(all.key_ids);
  part.key_valid = reorder(all.key_valid);
  part.key_days = reorder(all.key_days);
  part.key_studies = reorder(all.key_studies);
  part.key_images = reorder(all.key_images);
  part.anchors = mine(part.keys);
  part.anchor_ids = mine(part.key_ids);
  part.anchor_days = mine(part.key_days);
  part.anchor_studies = mine(part.key_studies);
  part.anchor_images = mine(part.key_images);
  part.self_offset = begin;
  part.match_ids = all.match_ids;
  return part;
}

at::Tensor supcon_loss(const at::Tensor& features,
                       const PairAttributes& images,
                       const SupConOptions& options) {
  return contrastive_loss(supcon_contrastive_inputs(features, images), options);
}

at::Tensor supcon_loss(const at::Tensor& features,
                       const at::Tensor& labels,
                       const SupConOptions& options) {
  PairAttributes images;
  images.ids = labels;
  return supcon_loss(features, images, options);
}

ContrastiveInputs moco_contrastive_inputs(const MoCoLossInputs& inputs) {
  TORCH_CHECK(inputs.keys.defined() && inputs.queue_keys.defined(),
              "moco loss: keys (own keys k+) and queue_keys are required");
  ContrastiveInputs in;
  in.anchors = inputs.queries;
  in.keys = inputs.queue_keys.detach();
  in.own_keys = inputs.keys.detach();
  in.key_valid = inputs.queue_valid;
  in.match_ids = inputs.positives == MoCoPositives::kPatient;
  if (in.match_ids) {
    in.anchor_ids = inputs.query.ids;
    in.key_ids = inputs.queue.ids;
    in.anchor_days = inputs.query.days;
    in.key_days = inputs.queue.days;
    in.anchor_studies = inputs.query.studies;
    in.key_studies = inputs.queue.studies;
    in.anchor_images = inputs.query.images;
    in.key_images = inputs.queue.images;
  }
  return in;
}

at::Tensor moco_loss(const MoCoLossInputs& inputs, const SupConOptions& options) {
  return contrastive_loss(moco_contrastive_inputs(inputs), options);
}

at::Tensor moco_loss(const at::Tensor& queries,
                     const at::Tensor& keys,
                     const at::Tensor& query_ids,
                     const at::Tensor& queue_keys,
                     const at::Tensor& queue_ids,
                     const at::Tensor& queue_valid,
                     MoCoPositives positives,
                     const SupConOptions& options) {
  MoCoLossInputs inputs;
  inputs.queries = queries;
  inputs.keys = keys;
  inputs.query.ids = query_ids;
  inputs.queue_keys = queue_keys;
  inputs.queue.ids = queue_ids;
  inputs.queue_valid = queue_valid;
  inputs.positives = positives;
  return moco_loss(inputs, options);
}

at::Tensor positive_count_sums(const ContrastiveInputs& inputs, const SupConOptions& options) {
  const torch::NoGradGuard no_grad;
  check_options(options);
  if (inputs.match_ids) check_positive_options(options.positives);
  check_features(inputs.anchors, inputs.keys);
  const std::int64_t nq = inputs.anchors.size(0);
  const std::int64_t nk = inputs.keys.size(0);
  const at::Device device = inputs.anchors.device();
  const Attributes a = prepare_attributes(inputs, options.positives, nq, nk, device);
  const auto double_options = inputs.anchors.options().dtype(at::kDouble);
  at::Tensor key_positives = at::zeros({nq}, double_options);
  at::Tensor key_weight = at::zeros({nq}, double_options);
  if (inputs.match_ids && nk > 0) {
    // One [rows, Nk] block at a time: positive_weights' float64 temporaries (time differences,
    // exponentials, the masked copy) and bool masks come to about 48 bytes per pair.
    const std::int64_t rows = chunk_rows_for_budget(nk, options.memory_budget_bytes, 48);
    for (std::int64_t r0 = 0; r0 < nq; r0 += rows) {
      const std::int64_t r1 = std::min(nq, r0 + rows);
      const at::Tensor keep = keep_mask(r0, r1, nk, a.key_valid, inputs.self_offset.has_value(),
                                        inputs.self_offset.value_or(0), double_options);
      at::Tensor other = keep;
      if (a.anchor_images.defined() && a.key_images.defined()) {
        // Pairs of one image are positives under every rule: what the rule adds is the rest.
        const at::Tensor anchor_images = a.anchor_images.slice(0, r0, r1).unsqueeze(1);
        other = keep & ((anchor_images != a.key_images.unsqueeze(0)) | (anchor_images < 0));
      }
      const at::Tensor w = at::where(
          other, positive_weights(options.positives, a.anchors(r0, r1), a.keys(), at::kDouble),
          at::zeros({}, double_options));
      key_positives.slice(0, r0, r1).copy_((w > 0).sum(1));
      key_weight.slice(0, r0, r1).copy_(w.sum(1));
    }
  }
  return at::stack(
      {key_positives.sum(), key_weight.sum(), (key_positives == 0).to(at::kDouble).sum()});
}

PositiveCounts positive_counts_of(double anchors, const at::Tensor& sums) {
  PositiveCounts counts;
  counts.anchors = anchors;
  if (!(anchors > 0.0)) return counts;
  // One transfer for the three sums.
  const at::Tensor host = sums.to(at::kCPU, at::kDouble).contiguous();
  const double* m = host.data_ptr<double>();
  counts.positives_per_anchor = m[0] / anchors;
  counts.weight_per_anchor = m[1] / anchors;
  counts.share_without = m[2] / anchors;
  return counts;
}

PositiveCounts positive_counts(const ContrastiveInputs& inputs, const SupConOptions& options) {
  return positive_counts_of(static_cast<double>(inputs.anchors.size(0)),
                            positive_count_sums(inputs, options));
}

}  // namespace cltci::ssl
