#include "cltci/dist/gather.h"

#include <ATen/core/ivalue.h>
#include <torch/autograd.h>
#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace cltci::dist {
namespace {

/// The group in the autograd context: several groups may live in one process (ranks as threads
/// in a test), so backward must not read a global.
struct GroupHolder : torch::CustomClassHolder {
  explicit GroupHolder(std::shared_ptr<Group> g) : group(std::move(g)) {}
  std::shared_ptr<Group> group;
};

class AllGather : public torch::autograd::Function<AllGather> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* context,
                               const torch::Tensor& local,
                               const std::shared_ptr<Group>& group) {
    context->saved_data["rows"] = local.size(0);
    context->saved_data["group"] =
        c10::IValue::make_capsule(c10::make_intrusive<GroupHolder>(group));
    return group->all_gather(local.detach());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list grads) {
    const std::int64_t rows = context->saved_data["rows"].toInt();
    const auto holder =
        c10::static_intrusive_pointer_cast<GroupHolder>(context->saved_data["group"].toCapsule());
    std::vector<at::Tensor> summed{grads[0].contiguous().clone()};
    holder->group->all_reduce_sum(summed);
    const std::int64_t rank = holder->group->rank();
    return {summed[0].slice(0, rank * rows, (rank + 1) * rows), torch::Tensor()};
  }
};

}  // namespace

at::Tensor all_gather_with_grad(const at::Tensor& local, const std::shared_ptr<Group>& group) {
  if (!group || !group->distributed()) return local;
  return AllGather::apply(local, group);
}

}  // namespace cltci::dist
