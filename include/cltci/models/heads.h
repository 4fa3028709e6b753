// The heads that pretraining puts on an encoder's deepest feature map: the projection MLP of
// SimCLR/MoCo (CL-TCI and vanilla), the Rotation 4-way classifier, and PIRL's jigsaw head.
// None of them normalises its output; the methods do (MoCo/PIRL L2-normalise, SimCLR uses
// cosine similarity).
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <ostream>

namespace cltci::models {

/// Example: `ProjectionHeadOptions(512, 128)` (C = 512 from a U-Net centre, 128-d embedding).
struct ProjectionHeadOptions {
  ProjectionHeadOptions(int64_t in_channels, int64_t out_dim)
      : in_channels_(in_channels), out_dim_(out_dim) {}
  /// Channels of the feature map the head receives.
  TORCH_ARG(int64_t, in_channels);
  /// Embedding size (the paper: 512).
  TORCH_ARG(int64_t, out_dim);
  TORCH_ARG(int64_t, hidden_dim) = 512;
};

/// Global average pool → Linear(C, hidden) → ReLU → Linear(hidden, out_dim). Accepts N×C×H×W
/// feature maps or already pooled N×C vectors.
class ProjectionHeadImpl : public torch::nn::Module {
 public:
  explicit ProjectionHeadImpl(const ProjectionHeadOptions& options);
  torch::Tensor forward(const torch::Tensor& features);
  void pretty_print(std::ostream& stream) const override;

  ProjectionHeadOptions options;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(ProjectionHead);

/// Example: `RotationHeadOptions(2048)`.
struct RotationHeadOptions {
  explicit RotationHeadOptions(int64_t in_channels) : in_channels_(in_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, hidden_dim) = 512;
};

/// The Rotation pretext classifier: the projection MLP with 4 outputs (0°, 90°, 180°, 270°).
class RotationHeadImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kRotations = 4;
  explicit RotationHeadImpl(const RotationHeadOptions& options);
  /// Feature maps → N × 4 logits.
  torch::Tensor forward(const torch::Tensor& features);
  void pretty_print(std::ostream& stream) const override;

  RotationHeadOptions options;
  ProjectionHead mlp{nullptr};
};
TORCH_MODULE(RotationHead);

/// Example: `JigsawHeadOptions(512, 512)`.
struct JigsawHeadOptions {
  JigsawHeadOptions(int64_t in_channels, int64_t out_dim)
      : in_channels_(in_channels), out_dim_(out_dim) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_dim);
  /// Size of each patch embedding.
  TORCH_ARG(int64_t, patch_dim) = 512;
  TORCH_ARG(int64_t, hidden_dim) = 512;
  /// Patches per image (a 3×3 grid).
  TORCH_ARG(int64_t, patches) = 9;
};

/// PIRL's jigsaw head: the projection MLP applied to every patch, the image's patch embeddings
/// concatenated in the order given, then Linear(patches·patch_dim, out_dim). The caller shuffles
/// the patches of each image (the paper's code does) before the encoder or before this head.
class JigsawHeadImpl : public torch::nn::Module {
 public:
  explicit JigsawHeadImpl(const JigsawHeadOptions& options);
  /// (N·patches) × C × h × w feature maps, the patches of one image consecutive → N × out_dim.
  torch::Tensor forward(const torch::Tensor& patch_features);
  void pretty_print(std::ostream& stream) const override;

  JigsawHeadOptions options;
  ProjectionHead patch_mlp{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(JigsawHead);

}  // namespace cltci::models
