// Fused CUDA reductions of the chunked contrastive loss. Forward: one block per anchor row
// reads the row's logits once and produces the online-softmax log-sum-exp (running max with
// rescaled sum, so no separate max pass), the weighted positive sum and the weight sum, deciding
// validity / self / positive weight on the fly (pair_kept / pair_weight, shared with the CPU
// pass); the unfused ATen equivalent needs a bool mask, a weight matrix, a masked copy and four
// passes over [c, Nk]. Backward: one elementwise pass writes (softmax - w/sum(w)) * weight in
// place, zero for excluded keys.
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
                                     MaskPointers mask,
                                     scalar_t* __restrict__ lse,
                                     scalar_t* __restrict__ pos_sum,
                                     scalar_t* __restrict__ pos_count) {
  const std::int64_t r = blockIdx.x;
  const scalar_t* row = logits + r * cols;
  scalar_t m = -INFINITY;
  scalar_t s = 0;
  scalar_t psum = 0;
  scalar_t pcount = 0;
  for (std::int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    if (!pair_kept(mask, r, j)) continue;
    const scalar_t x = row[j];
    if (x > m) {
      s = s * exp(m - x) + scalar_t(1);
      m = x;
    } else {
      s += exp(x - m);
    }
    if (mask.match_ids) {
      // Through the logits' dtype, as the CPU pass and the full path do.
      const auto w = static_cast<scalar_t>(pair_weight(mask, r, j));
      if (w != scalar_t(0)) {
        psum += w * x;
        pcount += w;
      }
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
                                             MaskPointers mask,
                                             const scalar_t* __restrict__ lse,
                                             const scalar_t* __restrict__ inv_count,
                                             const scalar_t* __restrict__ weight) {
  const std::int64_t r = blockIdx.y;
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= cols) return;
  scalar_t* entry = logits + r * cols + j;
  const scalar_t w = weight[r];
  if (w == scalar_t(0) || !pair_kept(mask, r, j)) {
    *entry = scalar_t(0);
    return;
  }
  scalar_t g = exp(*entry - lse[r]);
  if (mask.match_ids) g -= static_cast<scalar_t>(pair_weight(mask, r, j)) * inv_count[r];
  *entry = g * w;
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
  const MaskPointers m = mask_pointers(mask, rows, cols, logits.device(), valid_holder);
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
  const MaskPointers m = mask_pointers(mask, rows, cols, logits.device(), valid_holder);
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
