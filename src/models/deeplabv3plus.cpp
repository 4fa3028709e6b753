#include "cltci/models/deeplabv3plus.h"

#include "cltci/models/resnet.h"

#include <torch/torch.h>

#include <algorithm>
#include <ostream>
#include <utility>

namespace cltci::models {
namespace {

namespace F = torch::nn::functional;

torch::nn::Conv2d conv_no_bias(
    int64_t in, int64_t out, int64_t kernel, int64_t dilation = 1, int64_t groups = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .padding(kernel / 2 * dilation)
                               .dilation(dilation)
                               .groups(groups)
                               .bias(false));
}

torch::Tensor resize_bilinear(const torch::Tensor& x, torch::IntArrayRef size) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{size[0], size[1]})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

// VainF's init, which the paper's code inherits: kaiming-normal convs (fan_in, leaky_relu a=0),
// BatchNorm weight 1 and bias 0.
void init_head(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  auto init = [](torch::nn::Module& m) {
    if (auto* c = dynamic_cast<torch::nn::Conv2dImpl*>(&m)) {
      torch::nn::init::kaiming_normal_(c->weight);
      if (c->bias.defined()) c->bias.zero_();
    }
  };
  // include_self would need shared_from_this, unavailable inside a constructor.
  init(module);
  for (auto& child : module.modules(/*include_self=*/false)) init(*child);
}

}  // namespace

ASPPImpl::ASPPImpl(const ASPPOptions& options_) : options(options_) {
  const int64_t in = options.in_channels();
  const int64_t out = options.out_channels();
  TORCH_CHECK(in > 0 && out > 0, "ASPP: channels must be > 0, got in=", in, ", out=", out);
  TORCH_CHECK(!options.rates().empty(), "ASPP: at least one atrous rate is needed");
  for (int64_t rate : options.rates()) {
    TORCH_CHECK(rate >= 1, "ASPP: atrous rates must be >= 1, got ", rate);
  }
  TORCH_CHECK(options.dropout() >= 0.0 && options.dropout() < 1.0,
              "ASPP: dropout must be in [0, 1), got ", options.dropout());
  branches = register_module("branches", torch::nn::ModuleList());
  branches->push_back(torch::nn::Sequential(conv_no_bias(in, out, 1), torch::nn::BatchNorm2d(out),
                                            torch::nn::ReLU()));
  for (int64_t rate : options.rates()) {
    torch::nn::Sequential branch;
    if (options.separable()) {
      branch->push_back(conv_no_bias(in, in, 3, rate, in));
      branch->push_back(conv_no_bias(in, out, 1));
    } else {
      branch->push_back(conv_no_bias(in, out, 3, rate));
    }
    branch->push_back(torch::nn::BatchNorm2d(out));
    branch->push_back(torch::nn::ReLU());
    branches->push_back(branch);
  }
  pooling = register_module(
      "pooling", torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(1), conv_no_bias(in, out, 1),
                                       torch::nn::BatchNorm2d(out), torch::nn::ReLU()));
  const auto concat = static_cast<int64_t>(branches->size() + 1) * out;
  project = register_module(
      "project", torch::nn::Sequential(conv_no_bias(concat, out, 1), torch::nn::BatchNorm2d(out),
                                       torch::nn::ReLU(), torch::nn::Dropout(options.dropout())));
  init_head(*this);
}

torch::Tensor ASPPImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.in_channels(), "ASPP expects N×",
              options.in_channels(), "×H×W features, got sizes ", x.sizes());
  std::vector<torch::Tensor> outs;
  outs.reserve(branches->size() + 1);
  for (const auto& branch : *branches)
    outs.push_back(branch->as<torch::nn::Sequential>()->forward(x));
  outs.push_back(resize_bilinear(pooling->forward(x), x.sizes().slice(2)));
  return project->forward(torch::cat(outs, 1));
}

void ASPPImpl::pretty_print(std::ostream& stream) const {
  stream << "cltci::models::ASPP(in_channels=" << options.in_channels()
         << ", out_channels=" << options.out_channels() << ", rates=[";
  for (size_t i = 0; i < options.rates().size(); ++i) {
    stream << (i ? ", " : "") << options.rates()[i];
  }
  stream << "], separable=" << options.separable() << ", dropout=" << options.dropout() << ")";
}

DeepLabV3PlusImpl::DeepLabV3PlusImpl(const DeepLabV3PlusOptions& options_,
                                     std::shared_ptr<Encoder> encoder)
    : options(options_) {
  TORCH_CHECK(options.classes() > 0, "DeepLabV3Plus: classes must be > 0, got ", options.classes());
  if (!encoder) {
    encoder = ResNet(ResNetOptions()
                         .in_channels(options.in_channels())
                         .output_stride(options.output_stride()))
                  .ptr();
  }
  TORCH_CHECK(encoder->in_channels() == options.in_channels(), "DeepLabV3Plus: the encoder takes ",
              encoder->in_channels(), " input channels, the options say ", options.in_channels());
  const auto reductions = encoder->reductions();
  const auto found = std::find(reductions.begin(), reductions.end(), 4);
  TORCH_CHECK(found != reductions.end(),
              "DeepLabV3Plus: the encoder has no stride-4 feature map for the decoder");
  low_level_index_ = static_cast<size_t>(found - reductions.begin());
  encoder_module = register_module("encoder", std::move(encoder));

  const auto channels = encoder_module->channels();
  const int64_t dec = options.decoder_channels();
  const int64_t low = options.low_level_channels();
  aspp = register_module("aspp", ASPP(ASPPOptions(channels.back())
                                          .out_channels(dec)
                                          .rates(options.aspp_rates())
                                          .separable(options.aspp_separable())
                                          .dropout(options.aspp_dropout())));
  low_level = register_module(
      "low_level", torch::nn::Sequential(conv_no_bias(channels[low_level_index_], low, 1),
                                         torch::nn::BatchNorm2d(low), torch::nn::ReLU()));
  fuse = register_module(
      "fuse", torch::nn::Sequential(conv_no_bias(low + dec, dec, 3), torch::nn::BatchNorm2d(dec),
                                    torch::nn::ReLU()));
  classifier = register_module(
      "classifier", torch::nn::Conv2d(torch::nn::Conv2dOptions(dec, options.classes(), 1)));
  init_head(*low_level);
  init_head(*fuse);
  init_head(*classifier);
}

torch::Tensor DeepLabV3PlusImpl::forward(const torch::Tensor& x) {
  check_image_batch(x, options.in_channels(), encoder_module->output_stride(), "DeepLabV3Plus");
  const auto features = encoder_module->features(x);
  const torch::Tensor& low = features[low_level_index_];
  torch::Tensor high = resize_bilinear(aspp(features.back()), low.sizes().slice(2));
  // Low-level features first, as the paper's code concatenates them.
  torch::Tensor y = fuse->forward(torch::cat({low_level->forward(low), high}, 1));
  return resize_bilinear(classifier(y), x.sizes().slice(2));
}

void DeepLabV3PlusImpl::pretty_print(std::ostream& stream) const {
  stream << "cltci::models::DeepLabV3Plus(in_channels=" << options.in_channels()
         << ", classes=" << options.classes()
         << ", output_stride=" << encoder_module->output_stride() << ")";
}

}  // namespace cltci::models
