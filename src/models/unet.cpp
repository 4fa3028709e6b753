#include "cltci/models/unet.h"

#include <torch/torch.h>

#include <ostream>
#include <utility>

namespace cltci::models {
namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
}

// conv3x3 + norm + LeakyReLU(0.01), twice.
torch::nn::Sequential double_block(int64_t in, int64_t out, Norm norm, int64_t groups) {
  torch::nn::Sequential block;
  for (int64_t c : {in, out}) {
    block->push_back(conv3x3(c, out));
    block->push_back(make_norm(norm, out, groups));
    block->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.01)));
  }
  return block;
}

// The paper's code: kaiming-normal with a = 0.01 (leaky_relu gain, fan_in) on conv and
// transposed-conv weights, zero bias. Norm layers keep their defaults (weight 1, bias 0).
void init_like_paper(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  auto init = [](torch::nn::Module& m) {
    torch::Tensor weight, bias;
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(&m)) {
      weight = conv->weight;
      bias = conv->bias;
    } else if (auto* up = dynamic_cast<torch::nn::ConvTranspose2dImpl*>(&m)) {
      weight = up->weight;
      bias = up->bias;
    } else {
      return;
    }
    torch::nn::init::kaiming_normal_(weight, 0.01, torch::kFanIn, torch::kLeakyReLU);
    if (bias.defined()) bias.zero_();
  };
  // include_self would need shared_from_this, unavailable inside a constructor.
  init(module);
  for (auto& child : module.modules(/*include_self=*/false)) init(*child);
}

}  // namespace

UNetEncoderImpl::UNetEncoderImpl(const UNetEncoderOptions& options_) : options(options_) {
  TORCH_CHECK(options.in_channels() > 0, "UNetEncoder: in_channels must be > 0, got ",
              options.in_channels());
  TORCH_CHECK(options.base_channels() > 0, "UNetEncoder: base_channels must be > 0, got ",
              options.base_channels());
  TORCH_CHECK(options.depth() >= 1 && options.depth() <= kMaxUNetDepth,
              "UNetEncoder: depth must be in [1, ", kMaxUNetDepth, "], got ", options.depth());
  levels = register_module("levels", torch::nn::ModuleList());
  int64_t in = options.in_channels();
  for (int64_t i = 0; i < options.depth(); ++i) {
    const int64_t out = options.base_channels() << i;
    levels->push_back(double_block(in, out, options.norm(), options.norm_groups()));
    in = out;
  }
  const int64_t centre_channels = options.base_channels() << options.depth();
  centre = register_module(
      "centre",
      torch::nn::Sequential(conv3x3(in, centre_channels), torch::nn::ReLU(),
                            conv3x3(centre_channels, centre_channels), torch::nn::ReLU()));
  pool = register_module("pool", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2).stride(2)));
  init_like_paper(*this);
}

std::vector<torch::Tensor> UNetEncoderImpl::features(const torch::Tensor& x) {
  check_image_batch(x, options.in_channels(), int64_t{1} << options.depth(), "UNetEncoder");
  std::vector<torch::Tensor> out;
  out.reserve(levels->size() + 1);
  torch::Tensor y = x;
  for (const auto& level : *levels) {
    y = level->as<torch::nn::Sequential>()->forward(y);
    out.push_back(y);
    y = pool(y);
  }
  out.push_back(centre->forward(y));
  return out;
}

std::vector<int64_t> UNetEncoderImpl::channels() const {
  std::vector<int64_t> c;
  for (int64_t i = 0; i <= options.depth(); ++i) c.push_back(options.base_channels() << i);
  return c;
}

std::vector<int64_t> UNetEncoderImpl::reductions() const {
  std::vector<int64_t> r;
  for (int64_t i = 0; i <= options.depth(); ++i) r.push_back(int64_t{1} << i);
  return r;
}

void UNetEncoderImpl::pretty_print(std::ostream& stream) const {
  stream << "cltci::models::UNetEncoder(in_channels=" << options.in_channels()
         << ", base_channels=" << options.base_channels() << ", depth=" << options.depth()
         << ", norm=" << to_string(options.norm()) << ")";
}

UNetEncoderOptions UNetOptions::encoder_options() const {
  return UNetEncoderOptions(in_channels())
      .base_channels(base_channels())
      .depth(depth())
      .norm(norm())
      .norm_groups(norm_groups());
}

UNetImpl::UNetImpl(const UNetOptions& options_, UNetEncoder encoder) : options(options_) {
  TORCH_CHECK(options.classes() > 0, "UNet: classes must be > 0, got ", options.classes());
  if (encoder) {
    const auto& given = encoder->options;
    TORCH_CHECK(given.in_channels() == options.in_channels() &&
                    given.base_channels() == options.base_channels() &&
                    given.depth() == options.depth(),
                "UNet: the given encoder (in_channels=", given.in_channels(),
                ", base_channels=", given.base_channels(), ", depth=", given.depth(),
                ") does not match the options (in_channels=", options.in_channels(),
                ", base_channels=", options.base_channels(), ", depth=", options.depth(), ")");
    encoder_module = register_module("encoder", std::move(encoder));
  } else {
    encoder_module = register_module("encoder", UNetEncoder(options.encoder_options()));
  }
  up = register_module("up", torch::nn::ModuleList());
  decode = register_module("decode", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.depth(); ++i) {
    const int64_t skip = options.base_channels() << i;
    up->push_back(
        torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(2 * skip, skip, 2).stride(2)));
    decode->push_back(double_block(2 * skip, skip, options.norm(), options.norm_groups()));
  }
  head = register_module(
      "head",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(options.base_channels(), options.classes(), 1).bias(false)));
  // The decoder is always freshly initialised; a given encoder keeps its weights.
  init_like_paper(*up);
  init_like_paper(*decode);
  init_like_paper(*head);
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x) {
  auto skips = encoder_module->features(x);
  torch::Tensor y = skips.back();
  for (int64_t i = options.depth() - 1; i >= 0; --i) {
    y = up[i]->as<torch::nn::ConvTranspose2d>()->forward(y);
    y = decode[i]->as<torch::nn::Sequential>()->forward(torch::cat({skips[i], y}, 1));
  }
  return head(y);
}

void UNetImpl::pretty_print(std::ostream& stream) const {
  stream << "cltci::models::UNet(in_channels=" << options.in_channels()
         << ", classes=" << options.classes() << ", base_channels=" << options.base_channels()
         << ", depth=" << options.depth() << ", norm=" << to_string(options.norm()) << ")";
}

}  // namespace cltci::models
