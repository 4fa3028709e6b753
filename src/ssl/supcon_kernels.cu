// Fused CUDA reductions of the chunked contrastive loss. Forward: one block per anchor row
// reads the row's logits once and produces the online-softmax log-sum-exp (running max with
// rescaled sum, so no separate max pass), the positive sum and the positive count, deciding
// validity / self / id match on the fly; the unfused ATen equivalent needs a bool mask, a masked
// copy and four passes over [c, Nk]. Backward: one elementwise pass writes
// (softmax - positive/|P|) * weight in place, zero for excluded keys.
#include "ssl/supcon_kernels.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <cmath>
#include <limits>

namespace cltci::ssl::detail {
namespace {

constexpr int kThreads = 256;

struct DeviceMask {
  const std::int64_t* anchor_ids;
  const std::int64_t* key_ids;
  const bool* key_valid;
  bool has_self;
  std::int64_t self_col0;
  bool match_ids;
};

__device__ __forceinline__ bool kept(const DeviceMask& m, std::int64_t r, std::int64_t j) {
  if (m.key_valid != nullptr && !m.key_valid[j]) return false;
  return !(m.has_self && j == m.self_col0 + r);
}

template <typename scalar_t>
__device__ __forceinline__ void merge_lse(scalar_t& m, scalar_t& s, scalar_t m2, scalar_t s2) {
  const scalar_t mx = m > m2 ? m : m2;
  if (mx == -INFINITY) return;  // both empty: exp(-inf - -inf) would be NaN
  s = s * exp(m - mx) + s2 * exp(m2 - mx);
  m = mx;
}

template <typename scalar_t>
__global__ void forward_stats_kernel(const scalar_t* __restrict__ logits,
                                     std::int64_t cols,
                                     DeviceMask mask,
                                     scalar_t* __restrict__ lse,
                                     scalar_t* __restrict__ pos_sum,
                                     scalar_t* __restrict__ pos_count) {
  const std::int64_t r = blockIdx.x;
  const scalar_t* row = logits + r * cols;
  scalar_t m = -INFINITY;
  scalar_t s = 0;
  scalar_t psum = 0;
  scalar_t pcount = 0;
  const std::int64_t id = mask.match_ids ? mask.anchor_ids[r] : 0;
  for (std::int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    if (!kept(mask, r, j)) continue;
    const scalar_t x = row[j];
    if (x > m) {
      s = s * exp(m - x) + scalar_t(1);
      m = x;
    } else {
      s += exp(x - m);
    }
    if (mask.match_ids && mask.key_ids[j] == id) {
      psum += x;
      pcount += scalar_t(1);
    }
  }
  __shared__ scalar_t sh_m[kThreads];
  __shared__ scalar_t sh_s[kThreads];
  __shared__ scalar_t sh_p[kThreads];
  __shared__ scalar_t sh_c[kThreads];
  sh_m[threadIdx.x] = m;
  sh_s[threadIdx.x] = s;
  sh_p[threadIdx.x] = psum;
  sh_c[threadIdx.x] = pcount;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) {
      const int o = threadIdx.x + stride;
      merge_lse(sh_m[threadIdx.x], sh_s[threadIdx.x], sh_m[o], sh_s[o]);
      sh_p[threadIdx.x] += sh_p[o];
      sh_c[threadIdx.x] += sh_c[o];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    lse[r] = sh_m[0] == -INFINITY ? scalar_t(-INFINITY) : sh_m[0] + log(sh_s[0]);
    pos_sum[r] = sh_p[0];
    pos_count[r] = sh_c[0];
  }
}

template <typename scalar_t>
__global__ void backward_coefficients_kernel(scalar_t* __restrict__ logits,
                                             std::int64_t cols,
                                             DeviceMask mask,
                                             const scalar_t* __restrict__ lse,
                                             const scalar_t* __restrict__ inv_count,
                                             const scalar_t* __restrict__ weight) {
  const std::int64_t r = blockIdx.y;
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= cols) return;
  scalar_t* entry = logits + r * cols + j;
  const scalar_t w = weight[r];
  if (w == scalar_t(0) || !kept(mask, r, j)) {
    *entry = scalar_t(0);
    return;
  }
  scalar_t g = exp(*entry - lse[r]);
  if (mask.match_ids && mask.key_ids[j] == mask.anchor_ids[r]) g -= inv_count[r];
  *entry = g * w;
}

DeviceMask device_mask(const ChunkMask& mask, at::Tensor& valid_holder) {
  DeviceMask m{};
  m.match_ids = mask.match_ids;
  if (mask.match_ids) {
    TORCH_CHECK(mask.anchor_ids.is_cuda() && mask.key_ids.is_cuda(), "ids must be on the GPU");
    m.anchor_ids = mask.anchor_ids.data_ptr<std::int64_t>();
    m.key_ids = mask.key_ids.data_ptr<std::int64_t>();
  }
  if (mask.key_valid.defined()) {
    valid_holder = mask.key_valid.contiguous();
    m.key_valid = valid_holder.data_ptr<bool>();
  }
  m.has_self = mask.has_self;
  m.self_col0 = mask.self_col0;
  return m;
}

}  // namespace

ChunkStats chunk_forward_stats_cuda(const at::Tensor& logits, const ChunkMask& mask) {
  TORCH_CHECK(logits.dim() == 2 && logits.is_contiguous(), "chunk logits must be contiguous 2-D");
  const c10::cuda::CUDAGuard guard(logits.device());
  const std::int64_t rows = logits.size(0);
  const std::int64_t cols = logits.size(1);
  ChunkStats stats;
  stats.lse = at::empty({rows}, logits.options());
  stats.pos_sum = at::empty({rows}, logits.options());
  stats.pos_count = at::empty({rows}, logits.options());
  if (rows == 0) return stats;
  at::Tensor valid_holder;
  const DeviceMask m = device_mask(mask, valid_holder);
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "chunk_forward_stats_cuda", [&] {
    forward_stats_kernel<scalar_t><<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(
        logits.data_ptr<scalar_t>(), cols, m, stats.lse.data_ptr<scalar_t>(),
        stats.pos_sum.data_ptr<scalar_t>(), stats.pos_count.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return stats;
}

void chunk_backward_coefficients_cuda(at::Tensor& logits,
                                      const ChunkMask& mask,
                                      const at::Tensor& lse,
                                      const at::Tensor& inv_count,
                                      const at::Tensor& weight) {
  TORCH_CHECK(logits.dim() == 2 && logits.is_contiguous(), "chunk logits must be contiguous 2-D");
  const c10::cuda::CUDAGuard guard(logits.device());
  const std::int64_t rows = logits.size(0);
  const std::int64_t cols = logits.size(1);
  if (rows == 0 || cols == 0) return;
  TORCH_CHECK(rows <= 65535, "chunk of ", rows, " rows exceeds the CUDA grid's y limit");
  at::Tensor valid_holder;
  const DeviceMask m = device_mask(mask, valid_holder);
  const at::Tensor l = lse.contiguous();
  const at::Tensor inv = inv_count.contiguous();
  const at::Tensor w = weight.contiguous();
  const dim3 grid(static_cast<unsigned>((cols + kThreads - 1) / kThreads),
                  static_cast<unsigned>(rows));
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "chunk_backward_coefficients_cuda", [&] {
    backward_coefficients_kernel<scalar_t><<<grid, kThreads, 0, stream>>>(
        logits.data_ptr<scalar_t>(), cols, m, l.data_ptr<scalar_t>(), inv.data_ptr<scalar_t>(),
        w.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

}  // namespace cltci::ssl::detail
