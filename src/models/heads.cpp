#include "cltci/models/heads.h"

#include <ostream>

namespace cltci::models {
namespace {

// Pools N×C×H×W maps to N×C; N×C vectors pass through.
torch::Tensor pooled(const torch::Tensor& x, int64_t channels, const char* who) {
  TORCH_CHECK((x.dim() == 4 || x.dim() == 2) && x.size(1) == channels, who, " expects N×", channels,
              "×H×W feature maps or N×", channels, " vectors, got sizes ", x.sizes());
  return x.dim() == 4 ? x.mean({2, 3}) : x;
}

}  // namespace

ProjectionHeadImpl::ProjectionHeadImpl(const ProjectionHeadOptions& options_) : options(options_) {
  TORCH_CHECK(options.in_channels() > 0 && options.hidden_dim() > 0 && options.out_dim() > 0,
              "ProjectionHead: sizes must be > 0, got in_channels=", options.in_channels(),
              ", hidden_dim=", options.hidden_dim(), ", out_dim=", options.out_dim());
  fc1 = register_module("fc1", torch::nn::Linear(options.in_channels(), options.hidden_dim()));
  fc2 = register_module("fc2", torch::nn::Linear(options.hidden_dim(), options.out_dim()));
}

torch::Tensor ProjectionHeadImpl::forward(const torch::Tensor& features) {
  return fc2(torch::relu(fc1(pooled(features, options.in_channels(), "ProjectionHead"))));
}

void ProjectionHeadImpl::pretty_print(std::ostream& stream) const {
  stream << "cltci::models::ProjectionHead(in_channels=" << options.in_channels()
         << ", hidden_dim=" << options.hidden_dim() << ", out_dim=" << options.out_dim() << ")";
}

RotationHeadImpl::RotationHeadImpl(const RotationHeadOptions& options_) : options(options_) {
  mlp =
      register_module("mlp", ProjectionHead(ProjectionHeadOptions(options.in_channels(), kRotations)
                                                .hidden_dim(options.hidden_dim())));
}

torch::Tensor RotationHeadImpl::forward(const torch::Tensor& features) { return mlp(features); }

void RotationHeadImpl::pretty_print(std::ostream& stream) const {
  stream << "cltci::models::RotationHead(in_channels=" << options.in_channels()
         << ", hidden_dim=" << options.hidden_dim() << ")";
}

JigsawHeadImpl::JigsawHeadImpl(const JigsawHeadOptions& options_) : options(options_) {
  TORCH_CHECK(options.patches() > 0, "JigsawHead: patches must be > 0, got ", options.patches());
  patch_mlp = register_module(
      "patch_mlp", ProjectionHead(ProjectionHeadOptions(options.in_channels(), options.patch_dim())
                                      .hidden_dim(options.hidden_dim())));
  fc = register_module(
      "fc", torch::nn::Linear(options.patches() * options.patch_dim(), options.out_dim()));
}

torch::Tensor JigsawHeadImpl::forward(const torch::Tensor& patch_features) {
  TORCH_CHECK(patch_features.dim() >= 1 && patch_features.size(0) % options.patches() == 0,
              "JigsawHead expects ", options.patches(),
              " consecutive patches per image, got a batch of ",
              patch_features.dim() >= 1 ? patch_features.size(0) : 0);
  const int64_t images = patch_features.size(0) / options.patches();
  torch::Tensor embeddings = patch_mlp(patch_features);
  return fc(embeddings.reshape({images, options.patches() * options.patch_dim()}));
}

void JigsawHeadImpl::pretty_print(std::ostream& stream) const {
  stream << "cltci::models::JigsawHead(in_channels=" << options.in_channels()
         << ", patches=" << options.patches() << ", patch_dim=" << options.patch_dim()
         << ", out_dim=" << options.out_dim() << ")";
}

}  // namespace cltci::models
