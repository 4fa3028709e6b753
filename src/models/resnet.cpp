#include "cltci/models/resnet.h"

#include <algorithm>
#include <ostream>
#include <utility>

namespace cltci::models {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t dilation) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(kernel / 2 * dilation)
                               .dilation(dilation)
                               .bias(false));
}

}  // namespace

BottleneckImpl::BottleneckImpl(int64_t in_planes,
                               int64_t planes,
                               int64_t stride,
                               int64_t dilation,
                               torch::nn::Sequential downsample_) {
  conv1 = register_module("conv1", conv(in_planes, planes, 1, 1, 1));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3, stride, dilation));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
  conv3 = register_module("conv3", conv(planes, planes * kExpansion, 1, 1, 1));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(planes * kExpansion));
  relu = register_module("relu", torch::nn::ReLU(torch::nn::ReLUOptions(true)));
  if (downsample_) downsample = register_module("downsample", std::move(downsample_));
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = relu(bn1(conv1(x)));
  out = relu(bn2(conv2(out)));
  out = bn3(conv3(out));
  out += downsample ? downsample->forward(x) : x;
  return relu(out);
}

ResNetImpl::ResNetImpl(const ResNetOptions& options_) : options(options_) {
  TORCH_CHECK(options.in_channels() > 0, "ResNet: in_channels must be > 0, got ",
              options.in_channels());
  TORCH_CHECK(options.layers().size() == 4, "ResNet: layers must list 4 stages, got ",
              options.layers().size());
  for (int64_t blocks : options.layers()) {
    TORCH_CHECK(blocks >= 1, "ResNet: every stage needs at least one block, got ", blocks);
  }
  const int64_t os = options.output_stride();
  TORCH_CHECK(os == 8 || os == 16 || os == 32, "ResNet: output_stride must be 8, 16 or 32, got ",
              os);

  conv1 = register_module(
      "conv1",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(options.in_channels(), 64, 7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
  relu = register_module("relu", torch::nn::ReLU(torch::nn::ReLUOptions(true)));
  maxpool = register_module(
      "maxpool", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));

  // torchvision's _make_layer with replace_stride_with_dilation = {os <= 8, os <= 16} for
  // layer3 and layer4.
  int64_t in_planes = 64;
  int64_t dilation = 1;
  int64_t reduction = 4;
  auto make_layer = [&](int64_t planes, int64_t blocks, int64_t stride) {
    const int64_t previous_dilation = dilation;
    if (stride > 1 && reduction * stride > os) {
      dilation *= stride;
      stride = 1;
    }
    reduction *= stride;
    torch::nn::Sequential downsample{nullptr};
    if (stride != 1 || in_planes != planes * BottleneckImpl::kExpansion) {
      downsample =
          torch::nn::Sequential(conv(in_planes, planes * BottleneckImpl::kExpansion, 1, stride, 1),
                                torch::nn::BatchNorm2d(planes * BottleneckImpl::kExpansion));
    }
    torch::nn::Sequential layer;
    layer->push_back(Bottleneck(in_planes, planes, stride,
                                options.smp_dilation() ? dilation : previous_dilation, downsample));
    in_planes = planes * BottleneckImpl::kExpansion;
    for (int64_t i = 1; i < blocks; ++i) {
      layer->push_back(Bottleneck(in_planes, planes, 1, dilation, nullptr));
    }
    return layer;
  };
  layer1 = register_module("layer1", make_layer(64, options.layers()[0], 1));
  layer2 = register_module("layer2", make_layer(128, options.layers()[1], 2));
  layer3 = register_module("layer3", make_layer(256, options.layers()[2], 2));
  layer4 = register_module("layer4", make_layer(512, options.layers()[3], 2));

  // torchvision's init: kaiming-normal (fan_out, relu) convs; BatchNorm weight 1, bias 0 (the
  // LibTorch default already).
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    }
  }
}

std::vector<torch::Tensor> ResNetImpl::features(const torch::Tensor& x) {
  check_image_batch(x, options.in_channels(), options.output_stride(), "ResNet");
  std::vector<torch::Tensor> out;
  out.reserve(5);
  torch::Tensor y = relu(bn1(conv1(x)));
  out.push_back(y);
  y = layer1->forward(maxpool(y));
  out.push_back(y);
  y = layer2->forward(y);
  out.push_back(y);
  y = layer3->forward(y);
  out.push_back(y);
  out.push_back(layer4->forward(y));
  return out;
}

std::vector<int64_t> ResNetImpl::channels() const { return {64, 256, 512, 1024, 2048}; }

std::vector<int64_t> ResNetImpl::reductions() const {
  const int64_t os = options.output_stride();
  return {2, 4, 8, std::min<int64_t>(16, os), std::min<int64_t>(32, os)};
}

void ResNetImpl::pretty_print(std::ostream& stream) const {
  stream << "cltci::models::ResNet(in_channels=" << options.in_channels() << ", layers=[";
  for (size_t i = 0; i < options.layers().size(); ++i) {
    stream << (i ? ", " : "") << options.layers()[i];
  }
  stream << "], output_stride=" << options.output_stride()
         << ", smp_dilation=" << options.smp_dilation() << ")";
}

}  // namespace cltci::models
