#include "cltci/dist/group.h"

#include "dist/backends.h"

#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#include <torch/torch.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace cltci::dist {
namespace {

constexpr const char* kHeartbeatKey = "cltci/heartbeat/";
// A live rank bumps its counter this often; a diagnosis waits several periods for a change.
constexpr std::chrono::milliseconds kHeartbeatPeriod{500};
constexpr std::chrono::milliseconds kDiagnosisWait{2500};

}  // namespace

struct Group::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  int rank = 0;
  int world_size = 1;
  bool store_on_rank0 = true;

  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  std::thread heartbeat;

  ~Impl() {
    {
      const std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    wake.notify_all();
    if (heartbeat.joinable()) heartbeat.join();
  }

  void start_heartbeat() {
    heartbeat = std::thread([this] {
      std::unique_lock<std::mutex> lock(mutex);
      while (!stop) {
        try {
          store->add(kHeartbeatKey + std::to_string(rank), 1);
        } catch (const std::exception&) {
          return;  // the store's host is gone; the next collective reports it
        }
        wake.wait_for(lock, kHeartbeatPeriod, [this] { return stop; });
      }
    });
  }

  /// Which ranks stopped beating, in a sentence ("rank 1", "ranks 0 and 2"), or why none can be
  /// named.
  std::string lost_ranks() {
    std::vector<std::int64_t> before(static_cast<std::size_t>(world_size), -1);
    try {
      store->setTimeout(std::chrono::seconds(5));
      for (int r = 0; r < world_size; ++r) {
        before[static_cast<std::size_t>(r)] = store->add(kHeartbeatKey + std::to_string(r), 0);
      }
      std::this_thread::sleep_for(kDiagnosisWait);
      std::vector<int> lost;
      for (int r = 0; r < world_size; ++r) {
        if (r == rank) continue;
        if (store->add(kHeartbeatKey + std::to_string(r), 0) == before[static_cast<std::size_t>(r)])
          lost.push_back(r);
      }
      if (lost.empty()) {
        return "no rank has died (each still beats), so one did not reach this collective in "
               "time: a stuck rank, or ranks running different code paths";
      }
      std::string text = lost.size() == 1 ? "rank " : "ranks ";
      for (std::size_t i = 0; i < lost.size(); ++i) {
        text += (i == 0 ? "" : (i + 1 == lost.size() ? " and " : ", ")) + std::to_string(lost[i]);
      }
      return text + " stopped (killed, crashed or exited)";
    } catch (const std::exception&) {
      return store_on_rank0 ? "rank 0 stopped (it holds the rendezvous store, which is gone)"
                            : "the launcher's rendezvous store is gone";
    }
  }

  /// Runs a collective; its failure becomes one PeerLost line.
  template <typename Call>
  void guarded(const char* what, Call&& call) {
    try {
      call();
    } catch (const c10::Error& error) {
      fail(what, error.what_without_backtrace());
    } catch (const std::runtime_error& error) {
      fail(what, error.what());
    }
  }

  [[noreturn]] void fail(const char* what, const std::string& cause) {
    std::string first_line = cause.substr(0, cause.find('\n'));
    const std::string lost = lost_ranks();
    throw PeerLost("rank " + std::to_string(rank) + " of " + std::to_string(world_size) + ": " +
                   what + " failed: " + lost + " (" + first_line + ")");
  }
};

void PendingWork::wait() {
  if (wait_) {
    auto wait = std::move(wait_);
    wait_ = nullptr;
    wait();
  }
}

const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names{"auto", "gloo", "nccl"};
  return names;
}

Backend backend_from_string(const std::string& name) {
  if (name == "auto") return Backend::kAuto;
  if (name == "gloo") return Backend::kGloo;
  if (name == "nccl") return Backend::kNccl;
  throw common::InputError("run.dist_backend: expected auto, gloo or nccl (got '" + name + "')");
}

const char* to_string(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kGloo:
      return "gloo";
    case Backend::kNccl:
      return "nccl";
  }
  return "?";
}

std::shared_ptr<Group> Group::join(const LaunchInfo& launch, const GroupOptions& options) {
  auto group = std::make_shared<Group>();
  group->launch_ = launch;
  group->rank_ = launch.rank;
  group->world_size_ = launch.world_size;
  group->device_ = options.device;
  Backend backend = options.backend;
  if (backend == Backend::kAuto)
    backend = options.device.is_cuda() ? Backend::kNccl : Backend::kGloo;
  if (backend == Backend::kNccl && !options.device.is_cuda()) {
    throw common::InputError("run.dist_backend: nccl needs run.device cuda (got " +
                             options.device.str() + "); use gloo for CPU processes");
  }
  if (backend == Backend::kGloo && options.device.is_cuda()) {
    throw common::InputError(
        "run.dist_backend: gloo with run.device cuda is not supported here; use nccl (or auto)");
  }
  group->backend_ = backend;

  auto impl = std::make_shared<Impl>();
  impl->rank = launch.rank;
  impl->world_size = launch.world_size;
  const std::string where = launch.master_addr + ":" + std::to_string(launch.master_port);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(launch.master_port);
    // Under torchrun's agent the store exists already; every rank is a client of it.
    store_options.isServer = !launch.agent_store && launch.rank == 0;
    store_options.numWorkers =
        launch.agent_store ? std::nullopt : std::optional<std::size_t>(launch.world_size);
    store_options.waitWorkers = !launch.agent_store;
    store_options.timeout = options.timeout;
    store_options.multiTenant = true;
    c10::intrusive_ptr<c10d::Store> store =
        c10::make_intrusive<c10d::TCPStore>(launch.master_addr, store_options);
    if (launch.agent_store) {
      store = c10::make_intrusive<c10d::PrefixStore>(
          "/worker/attempt_" + std::to_string(launch.restart_count), store);
    }
    // Our own keys apart from torchrun's and from the backend's.
    impl->store = c10::make_intrusive<c10d::PrefixStore>("cltci", store);
    impl->store_on_rank0 = !launch.agent_store;
    auto backend_store = c10::make_intrusive<c10d::PrefixStore>("backend", store);
    impl->backend = backend == Backend::kNccl
                        ? detail::make_nccl_backend(backend_store, launch.rank, launch.world_size,
                                                    options.timeout)
                        : detail::make_gloo_backend(backend_store, launch.rank, launch.world_size,
                                                    options.timeout, options.gloo_interface);
  } catch (const c10::Error& error) {
    const std::string what = error.what_without_backtrace();
    throw common::Error("rendezvous at " + where + " (rank " + std::to_string(launch.rank) +
                        " of " + std::to_string(launch.world_size) + ", " +
                        to_string(launch.launcher) + ") failed within " +
                        std::to_string(options.timeout.count() / 1000) +
                        " s (run.dist_timeout_s): " + what.substr(0, what.find('\n')));
  }
  impl->start_heartbeat();
  group->impl_ = std::move(impl);
  return group;
}

std::string Group::describe() const {
  if (!impl_) return "single process";
  return "rank " + std::to_string(rank_) + " of " + std::to_string(world_size_) + " (" +
         to_string(backend_) + ")";
}

namespace {

/// Runs `collective` on one flat buffer per dtype holding all of `tensors`, then writes the
/// results back into them: c10d's tensor lists mean one tensor per device, all of one size, so
/// a model's parameters travel coalesced (also one message instead of hundreds).
void coalesced(std::vector<at::Tensor>& tensors,
               const std::function<void(at::Tensor& flat)>& collective) {
  const torch::NoGradGuard no_grad;
  std::vector<bool> done(tensors.size(), false);
  for (std::size_t first = 0; first < tensors.size(); ++first) {
    if (done[first]) continue;
    std::vector<std::size_t> members;
    std::vector<at::Tensor> flat_parts;
    for (std::size_t t = first; t < tensors.size(); ++t) {
      if (done[t] || tensors[t].scalar_type() != tensors[first].scalar_type()) continue;
      TORCH_CHECK(tensors[t].device() == tensors[first].device(),
                  "collective: tensors on different devices");
      members.push_back(t);
      flat_parts.push_back(tensors[t].reshape({-1}));
      done[t] = true;
    }
    at::Tensor flat = members.size() == 1 && tensors[first].is_contiguous()
                          ? tensors[first].view({-1})
                          : at::cat(flat_parts);
    collective(flat);
    std::int64_t offset = 0;
    for (const std::size_t t : members) {
      at::Tensor& tensor = tensors[t];
      const at::Tensor part = flat.slice(0, offset, offset + tensor.numel()).view(tensor.sizes());
      if (!part.is_same(tensor) && part.data_ptr() != tensor.data_ptr()) tensor.copy_(part);
      offset += tensor.numel();
    }
  }
}

}  // namespace

void Group::all_reduce_sum(std::vector<at::Tensor>& tensors) {
  if (!impl_ || tensors.empty()) return;
  coalesced(tensors, [&](at::Tensor& flat) {
    impl_->guarded("all-reduce", [&] {
      std::vector<at::Tensor> one{flat};
      c10d::AllreduceOptions options;
      options.reduceOp = c10d::ReduceOp::SUM;
      impl_->backend->allreduce(one, options)->wait();
    });
  });
}

PendingWork Group::all_reduce_sum_async(at::Tensor& flat) {
  if (!impl_) return {};
  c10::intrusive_ptr<c10d::Work> work;
  impl_->guarded("all-reduce", [&] {
    std::vector<at::Tensor> tensors{flat};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    work = impl_->backend->allreduce(tensors, options);
  });
  return PendingWork([impl = impl_, work] { impl->guarded("all-reduce", [&] { work->wait(); }); });
}

void Group::broadcast(std::vector<at::Tensor>& tensors, int root) {
  if (!impl_ || tensors.empty()) return;
  coalesced(tensors, [&](at::Tensor& flat) {
    impl_->guarded("broadcast", [&] {
      std::vector<at::Tensor> one{flat};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      impl_->backend->broadcast(one, options)->wait();
    });
  });
}

at::Tensor Group::all_gather(const at::Tensor& local) {
  if (!impl_) return local;
  const at::Tensor input = local.contiguous();
  std::vector<std::int64_t> shape = input.sizes().vec();
  TORCH_CHECK(!shape.empty(), "all_gather: the tensor needs a first dimension");
  shape[0] *= world_size_;
  at::Tensor output = at::empty(shape, input.options());
  impl_->guarded("all-gather", [&] {
    // One output tensor per rank, views into the flat result, in rank order.
    std::vector<std::vector<at::Tensor>> outputs{output.chunk(world_size_, 0)};
    std::vector<at::Tensor> inputs{input};
    impl_->backend->allgather(outputs, inputs)->wait();
    // Gloo may write into temporaries it then copies; the views above are then up to date.
  });
  return output;
}

void Group::barrier(std::optional<std::chrono::milliseconds> timeout) {
  if (!impl_) return;
  impl_->guarded("barrier", [&] {
    c10d::BarrierOptions options;
    if (timeout) options.timeout = *timeout;
    if (device_.is_cuda()) options.device_ids = {device_.index()};
    impl_->backend->barrier(options)->wait();
  });
}

std::int64_t Group::broadcast_value(std::int64_t value,
                                    int root,
                                    std::optional<std::chrono::milliseconds> timeout) {
  if (!impl_) return value;
  std::vector<at::Tensor> tensors{
      torch::tensor({value}, torch::TensorOptions().dtype(torch::kLong).device(device_))};
  impl_->guarded("broadcast", [&] {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    if (timeout) options.timeout = *timeout;
    impl_->backend->broadcast(tensors, options)->wait();
  });
  return tensors[0].cpu().item<std::int64_t>();
}

double Group::max_value(double value) {
  if (!impl_) return value;
  std::vector<at::Tensor> tensors{
      torch::tensor({value}, torch::TensorOptions().dtype(torch::kDouble).device(device_))};
  impl_->guarded("all-reduce", [&] {
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::MAX;
    impl_->backend->allreduce(tensors, options)->wait();
  });
  return tensors[0].cpu().item<double>();
}

}  // namespace cltci::dist
