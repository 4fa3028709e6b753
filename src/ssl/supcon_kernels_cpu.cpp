// CPU side of the per-chunk reductions: the exponentials go through ATen's vectorised kernels,
// the mask logic (validity, self, id match) is one fused scalar pass per row, so no [c, Nk] mask
// or masked copy is ever allocated.
#include "ssl/supcon_kernels.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <limits>

namespace cltci::ssl::detail {
namespace {

struct MaskView {
  const std::int64_t* anchor_ids = nullptr;
  const std::int64_t* key_ids = nullptr;
  const bool* key_valid = nullptr;
  bool has_self = false;
  std::int64_t self_col0 = 0;
  bool match_ids = false;
};

MaskView view_of(const ChunkMask& mask, at::Tensor& valid_holder) {
  MaskView view;
  view.match_ids = mask.match_ids;
  if (mask.match_ids) {
    view.anchor_ids = mask.anchor_ids.data_ptr<std::int64_t>();
    view.key_ids = mask.key_ids.data_ptr<std::int64_t>();
  }
  if (mask.key_valid.defined()) {
    valid_holder = mask.key_valid.contiguous();
    view.key_valid = valid_holder.data_ptr<bool>();
  }
  view.has_self = mask.has_self;
  view.self_col0 = mask.self_col0;
  return view;
}

void check_chunk(const at::Tensor& logits, const ChunkMask& mask) {
  TORCH_CHECK(logits.dim() == 2 && logits.is_contiguous(), "chunk logits must be contiguous 2-D");
  if (mask.match_ids) {
    TORCH_CHECK(mask.anchor_ids.is_contiguous() && mask.key_ids.is_contiguous() &&
                    mask.anchor_ids.numel() == logits.size(0) &&
                    mask.key_ids.numel() == logits.size(1),
                "chunk ids do not match the logits");
  }
}

}  // namespace

ChunkStats chunk_forward_stats(at::Tensor& logits, const ChunkMask& mask) {
#if CLTCI_WITH_CUDA
  if (logits.is_cuda()) return chunk_forward_stats_cuda(logits, mask);
#endif
  check_chunk(logits, mask);
  const std::int64_t rows = logits.size(0);
  const std::int64_t cols = logits.size(1);
  at::Tensor valid_holder;
  const MaskView view = view_of(mask, valid_holder);
  ChunkStats stats;
  stats.pos_sum = at::zeros({rows}, logits.options());
  stats.pos_count = at::zeros({rows}, logits.options());
  if (logits.is_cpu()) {
    AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "chunk_forward_stats", [&] {
      scalar_t* data = logits.data_ptr<scalar_t>();
      scalar_t* pos_sum = stats.pos_sum.data_ptr<scalar_t>();
      scalar_t* pos_count = stats.pos_count.data_ptr<scalar_t>();
      const scalar_t minus_inf = -std::numeric_limits<scalar_t>::infinity();
      at::parallel_for(0, rows, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
          scalar_t* row = data + r * cols;
          const std::int64_t self_col = view.has_self ? view.self_col0 + r : -1;
          scalar_t sum = 0;
          std::int64_t count = 0;
          if (view.key_valid != nullptr) {
            for (std::int64_t j = 0; j < cols; ++j) {
              if (!view.key_valid[j]) row[j] = minus_inf;
            }
          }
          if (self_col >= 0 && self_col < cols) row[self_col] = minus_inf;
          if (view.match_ids) {
            const std::int64_t id = view.anchor_ids[r];
            for (std::int64_t j = 0; j < cols; ++j) {
              // Excluded entries hold -inf by now; they may share the id but never count.
              const bool positive = view.key_ids[j] == id && row[j] != minus_inf;
              sum += positive ? row[j] : scalar_t(0);
              count += positive ? 1 : 0;
            }
          }
          pos_sum[r] = sum;
          pos_count[r] = static_cast<scalar_t>(count);
        }
      });
    });
  } else {
    // Devices without a fused kernel: same result with ATen ops and a per-chunk bool mask.
    at::Tensor keep = at::ones_like(logits, logits.options().dtype(at::kBool));
    if (mask.key_valid.defined()) keep &= mask.key_valid.unsqueeze(0);
    if (mask.has_self) {
      at::Tensor r = at::arange(rows, logits.options().dtype(at::kLong));
      at::Tensor c = r + mask.self_col0;
      at::Tensor in_range = (c >= 0) & (c < cols);
      keep.index_put_({r.masked_select(in_range), c.masked_select(in_range)},
                      at::zeros({}, keep.options()));
    }
    logits.masked_fill_(keep.logical_not(), -std::numeric_limits<double>::infinity());
    if (mask.match_ids) {
      at::Tensor positive = keep & (mask.anchor_ids.unsqueeze(1) == mask.key_ids.unsqueeze(0));
      stats.pos_sum = at::where(positive, logits, at::zeros({}, logits.options())).sum(1);
      stats.pos_count = positive.sum(1).to(logits.scalar_type());
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
  check_chunk(logits, mask);
  const std::int64_t rows = logits.size(0);
  const std::int64_t cols = logits.size(1);
  // Excluded entries may hold anything here (a fresh recomputation): they are zeroed below, so
  // exp only has to be finite-safe, which it is for finite lse.
  logits.sub_(lse.unsqueeze(1)).exp_();
  if (!logits.is_cpu()) {
    at::Tensor keep = at::ones_like(logits, logits.options().dtype(at::kBool));
    if (mask.key_valid.defined()) keep &= mask.key_valid.unsqueeze(0);
    if (mask.has_self) {
      at::Tensor r = at::arange(rows, logits.options().dtype(at::kLong));
      at::Tensor c = r + mask.self_col0;
      at::Tensor in_range = (c >= 0) & (c < cols);
      keep.index_put_({r.masked_select(in_range), c.masked_select(in_range)},
                      at::zeros({}, keep.options()));
    }
    if (mask.match_ids) {
      at::Tensor positive = keep & (mask.anchor_ids.unsqueeze(1) == mask.key_ids.unsqueeze(0));
      logits.sub_(positive.to(logits.scalar_type()) * inv_count.unsqueeze(1));
    }
    logits.mul_(keep.to(logits.scalar_type()) * weight.unsqueeze(1));
    return;
  }
  at::Tensor valid_holder;
  const MaskView view = view_of(mask, valid_holder);
  at::Tensor inv_c = inv_count.contiguous();
  at::Tensor w = weight.contiguous();
  AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "chunk_backward_coefficients", [&] {
    scalar_t* data = logits.data_ptr<scalar_t>();
    const scalar_t* inv = inv_c.data_ptr<scalar_t>();
    const scalar_t* wt = w.data_ptr<scalar_t>();
    at::parallel_for(0, rows, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t r = begin; r < end; ++r) {
        scalar_t* row = data + r * cols;
        const scalar_t row_w = wt[r];
        if (row_w == scalar_t(0)) {
          std::fill(row, row + cols, scalar_t(0));
          continue;
        }
        if (view.match_ids) {
          const std::int64_t id = view.anchor_ids[r];
          const scalar_t row_inv = inv[r];
          for (std::int64_t j = 0; j < cols; ++j) {
            row[j] = (row[j] - (view.key_ids[j] == id ? row_inv : scalar_t(0))) * row_w;
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
}

}  // namespace cltci::ssl::detail
