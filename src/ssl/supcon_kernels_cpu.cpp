// CPU side of the per-chunk reductions: the exponentials go through ATen's vectorised kernels,
// the mask and weight logic (validity, self, id match, positive rule) is one fused scalar pass
// per row, so no [c, Nk] mask, weight matrix or masked copy is ever allocated.
#include "cltci/ssl/positives.h"
#include "ssl/supcon_kernels.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace cltci::ssl::detail {
namespace {

/// Checks a per-row or per-key attribute and returns its data pointer (nullptr if undefined and
/// not required).
template <typename T>
const T* attribute_pointer(const at::Tensor& values,
                           std::int64_t n,
                           const at::Device& device,
                           bool required,
                           const char* what) {
  if (!values.defined()) {
    TORCH_CHECK(!required, "chunk mask: ", what, " required by the positive rule is missing");
    return nullptr;
  }
  constexpr at::ScalarType kType = c10::CppTypeToScalarType<T>::value;
  TORCH_CHECK(values.dim() == 1 && values.numel() == n && values.is_contiguous() &&
                  values.device() == device && values.scalar_type() == kType,
              "chunk mask: ", what, " must be a contiguous [", n, "] ", kType, " tensor on ",
              device, ", got ", values.sizes(), " ", values.scalar_type(), " on ", values.device());
  return values.data_ptr<T>();
}

/// Calls f with std::integral_constant<PositiveRule, rule>, so that the per-pair weight is
/// compiled for one rule and the inner loops carry no switch.
template <typename Fn>
void dispatch_rule(PositiveRule rule, Fn&& f) {
  switch (rule) {
    case PositiveRule::kPatient:
      return f(std::integral_constant<PositiveRule, PositiveRule::kPatient>{});
    case PositiveRule::kStudy:
      return f(std::integral_constant<PositiveRule, PositiveRule::kStudy>{});
    case PositiveRule::kWindow:
      return f(std::integral_constant<PositiveRule, PositiveRule::kWindow>{});
    case PositiveRule::kWeighted:
      return f(std::integral_constant<PositiveRule, PositiveRule::kWeighted>{});
  }
  TORCH_CHECK(false, "unknown positive rule ", static_cast<int>(rule));
}

/// The chunk's [c, Nk] weights through the reference ATen ops: only for devices without a fused
/// kernel, where the memory bound is not promised.
at::Tensor reference_weights(const ChunkMask& mask, at::ScalarType dtype) {
  PositiveOptions options;
  options.rule = mask.rule;
  options.max_days = mask.max_days;
  options.time_scale_days = mask.time_scale_days;
  const PairAttributes anchors{mask.anchor_ids, mask.anchor_days, mask.anchor_studies,
                               mask.anchor_images};
  const PairAttributes keys{mask.key_ids, mask.key_days, mask.key_studies, mask.key_images};
  return positive_weights(options, anchors, keys, dtype);
}

at::Tensor reference_keep(const at::Tensor& logits, const ChunkMask& mask) {
  const std::int64_t rows = logits.size(0);
  const std::int64_t cols = logits.size(1);
  at::Tensor keep = at::ones_like(logits, logits.options().dtype(at::kBool));
  if (mask.key_valid.defined()) keep &= mask.key_valid.unsqueeze(0);
  if (mask.has_self) {
    at::Tensor r = at::arange(rows, logits.options().dtype(at::kLong));
    at::Tensor c = r + mask.self_col0;
    at::Tensor in_range = (c >= 0) & (c < cols);
    keep.index_put_({r.masked_select(in_range), c.masked_select(in_range)},
                    at::zeros({}, keep.options()));
  }
  return keep;
}

void check_chunk(const at::Tensor& logits) {
  TORCH_CHECK(logits.dim() == 2 && logits.is_contiguous(), "chunk logits must be contiguous 2-D");
}

}  // namespace

MaskPointers mask_pointers(const ChunkMask& mask,
                           std::int64_t rows,
                           std::int64_t cols,
                           const at::Device& device,
                           at::Tensor& valid_holder) {
  MaskPointers m;
  m.match_ids = mask.match_ids;
  m.has_self = mask.has_self;
  m.self_col0 = mask.self_col0;
  if (mask.key_valid.defined()) {
    valid_holder = mask.key_valid.contiguous();
    m.key_valid = attribute_pointer<bool>(valid_holder, cols, device, true, "key_valid");
  }
  if (!mask.match_ids) return m;
  m.rule = mask.rule;
  m.max_days = mask.max_days;
  m.time_scale_days = mask.time_scale_days;
  const bool days = mask.rule == PositiveRule::kWindow || mask.rule == PositiveRule::kWeighted;
  const bool studies = mask.rule == PositiveRule::kStudy;
  m.anchor_ids = attribute_pointer<std::int64_t>(mask.anchor_ids, rows, device, true, "anchor ids");
  m.key_ids = attribute_pointer<std::int64_t>(mask.key_ids, cols, device, true, "key ids");
  m.anchor_days = attribute_pointer<double>(mask.anchor_days, rows, device, days, "anchor days");
  m.key_days = attribute_pointer<double>(mask.key_days, cols, device, days, "key days");
  m.anchor_studies =
      attribute_pointer<std::int64_t>(mask.anchor_studies, rows, device, studies, "anchor studies");
  m.key_studies =
      attribute_pointer<std::int64_t>(mask.key_studies, cols, device, studies, "key studies");
  TORCH_CHECK(mask.anchor_images.defined() == mask.key_images.defined(),
              "chunk mask: anchor and key images must be given together");
  m.anchor_images =
      attribute_pointer<std::int64_t>(mask.anchor_images, rows, device, false, "anchor images");
  m.key_images =
      attribute_pointer<std::int64_t>(mask.key_images, cols, device, false, "key images");
  return m;
}

ChunkStats chunk_forward_stats(at::Tensor& logits, const ChunkMask& mask) {
#if CLTCI_WITH_CUDA
  if (logits.is_cuda()) return chunk_forward_stats_cuda(logits, mask);
#endif
  check_chunk(logits);
  const std::int64_t rows = logits.size(0);
  const std::int64_t cols = logits.size(1);
  ChunkStats stats;
  stats.pos_sum = at::zeros({rows}, logits.options());
  stats.pos_count = at::zeros({rows}, logits.options());
  if (logits.is_cpu()) {
    at::Tensor valid_holder;
    const MaskPointers view = mask_pointers(mask, rows, cols, logits.device(), valid_holder);
    AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "chunk_forward_stats", [&] {
      scalar_t* data = logits.data_ptr<scalar_t>();
      scalar_t* pos_sum = stats.pos_sum.data_ptr<scalar_t>();
      scalar_t* pos_count = stats.pos_count.data_ptr<scalar_t>();
      const scalar_t minus_inf = -std::numeric_limits<scalar_t>::infinity();
      dispatch_rule(view.rule, [&](auto rule) {
        constexpr PositiveRule kRule = decltype(rule)::value;
        at::parallel_for(0, rows, 1, [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t r = begin; r < end; ++r) {
            scalar_t* row = data + r * cols;
            const std::int64_t self_col = view.has_self ? view.self_col0 + r : -1;
            scalar_t sum = 0;
            // In double: a float sum of many sub-1 weights would round at every step.
            double count = 0;
            if (view.key_valid != nullptr) {
              for (std::int64_t j = 0; j < cols; ++j) {
                if (!view.key_valid[j]) row[j] = minus_inf;
              }
            }
            if (self_col >= 0 && self_col < cols) row[self_col] = minus_inf;
            if (view.match_ids) {
              for (std::int64_t j = 0; j < cols; ++j) {
                // The weight goes through the logits' dtype, as in the full path, so both see
                // the same weights (a weight that underflows there is no positive in either).
                const auto w = static_cast<scalar_t>(rule_weight<kRule>(view, r, j));
                // Excluded entries hold -inf by now; they may share the id but never count.
                const bool positive = w != scalar_t(0) && row[j] != minus_inf;
                sum += positive ? w * row[j] : scalar_t(0);
                count += positive ? static_cast<double>(w) : 0.0;
              }
            }
            pos_sum[r] = sum;
            pos_count[r] = static_cast<scalar_t>(count);
          }
        });
      });
    });
  } else {
    // Devices without a fused kernel: same result with ATen ops and per-chunk masks.
    const at::Tensor keep = reference_keep(logits, mask);
    logits.masked_fill_(keep.logical_not(), -std::numeric_limits<double>::infinity());
    if (mask.match_ids) {
      const at::Tensor zero = at::zeros({}, logits.options());
      const at::Tensor w = at::where(keep, reference_weights(mask, logits.scalar_type()), zero);
      // where, not w * logits: excluded logits are -inf and 0 * -inf is NaN.
      stats.pos_sum = at::where(w != 0, w * logits, zero).sum(1);
      stats.pos_count = w.sum(1);
    }
  }
  stats.lse = at::logsumexp(logits, {1});
  return stats;
}

void chunk_backward_coefficients(at::Tensor& logits,
                                 const ChunkMask& mask,
                                 const at::Tensor& lse,
                                 const at::Tensor& inv_count,
                                 const at::Tensor& weight) {
#if CLTCI_WITH_CUDA
  if (logits.is_cuda())
    return chunk_backward_coefficients_cuda(logits, mask, lse, inv_count, weight);
#endif
  check_chunk(logits);
  const std::int64_t rows = logits.size(0);
  const std::int64_t cols = logits.size(1);
  // Excluded entries may hold anything here (a fresh recomputation): they are zeroed below, so
  // exp only has to be finite-safe, which it is for finite lse.
  logits.sub_(lse.unsqueeze(1)).exp_();
  if (!logits.is_cpu()) {
    const at::Tensor keep = reference_keep(logits, mask);
    if (mask.match_ids) {
      logits.sub_(reference_weights(mask, logits.scalar_type()) * inv_count.unsqueeze(1));
    }
    logits.mul_(keep.to(logits.scalar_type()) * weight.unsqueeze(1));
    return;
  }
  at::Tensor valid_holder;
  const MaskPointers view = mask_pointers(mask, rows, cols, logits.device(), valid_holder);
  at::Tensor inv_c = inv_count.contiguous();
  at::Tensor w = weight.contiguous();
  AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "chunk_backward_coefficients", [&] {
    scalar_t* data = logits.data_ptr<scalar_t>();
    const scalar_t* inv = inv_c.data_ptr<scalar_t>();
    const scalar_t* wt = w.data_ptr<scalar_t>();
    dispatch_rule(view.rule, [&](auto rule) {
      constexpr PositiveRule kRule = decltype(rule)::value;
      at::parallel_for(0, rows, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
          scalar_t* row = data + r * cols;
          const scalar_t row_w = wt[r];
          if (row_w == scalar_t(0)) {
            std::fill(row, row + cols, scalar_t(0));
            continue;
          }
          if (view.match_ids) {
            const scalar_t row_inv = inv[r];
            for (std::int64_t j = 0; j < cols; ++j) {
              const auto pw = static_cast<scalar_t>(rule_weight<kRule>(view, r, j));
              row[j] = (row[j] - pw * row_inv) * row_w;
            }
          } else {
            for (std::int64_t j = 0; j < cols; ++j) row[j] *= row_w;
          }
          if (view.key_valid != nullptr) {
            for (std::int64_t j = 0; j < cols; ++j) {
              if (!view.key_valid[j]) row[j] = scalar_t(0);
            }
          }
          const std::int64_t self_col = view.has_self ? view.self_col0 + r : -1;
          if (self_col >= 0 && self_col < cols) row[self_col] = scalar_t(0);
        }
      });
    });
  });
}

}  // namespace cltci::ssl::detail
