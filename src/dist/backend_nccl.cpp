// NCCL's c10d header compiles to nothing unless USE_C10D_NCCL is defined (see backend_gloo.cpp).
#include "cltci/build_info.h"
#include "cltci/common/error.h"
#include "dist/backends.h"

#if CLTCI_WITH_CUDA
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>

namespace cltci::dist::detail {

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    int rank,
                                                    int size,
                                                    std::chrono::milliseconds timeout) {
#if CLTCI_WITH_CUDA
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
#else
  (void)store;
  (void)rank;
  (void)size;
  (void)timeout;
  throw common::Error(
      "run.dist_backend: nccl needs a CUDA build of the toolkit; this one has none");
#endif
}

}  // namespace cltci::dist::detail
