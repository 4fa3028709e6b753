// Gloo's c10d header compiles to nothing unless USE_C10D_GLOO is defined. Some torch CMake
// configs define it for every target, others do not (research/distributed.md); defined here
// when missing, in this file only, so the shared precompiled header stays valid elsewhere.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif

#include "dist/backends.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <chrono>
#include <string>

namespace cltci::dist::detail {

c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    int rank,
                                                    int size,
                                                    std::chrono::milliseconds timeout,
                                                    const std::string& interface) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  // One device: Gloo pairs every rank over it. The default resolves the host name (what other
  // nodes reach) and falls back to loopback on a machine whose name does not resolve.
  options->devices.push_back(interface.empty()
                                 ? c10d::ProcessGroupGloo::createDefaultDevice()
                                 : c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
}

}  // namespace cltci::dist::detail
