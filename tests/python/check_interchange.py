"""Weight interchange between the C++ models and the real torchvision / smp, both directions.

Usage: check_interchange.py HELPER WORKDIR   (HELPER: the built interchange_helper)
Nothing is downloaded: every model is built with random weights (encoder_weights=None).
"""
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import segmentation_models_pytorch as smp  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

TOLERANCE = 1e-4
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def torchvision_layer4(model, x):
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


def grey_torchvision(**kwargs):
    model = torchvision.models.resnet50(weights=None, **kwargs)
    model.conv1 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model


def compare(name, got, want):
    diff = (got - want).abs().max().item()
    check(got.shape == want.shape and diff <= TOLERANCE,
          f"{name}: layer4 {tuple(got.shape)}, max |diff| {diff:.3g}")


def cpp_to_python(helper, work):
    subprocess.run([helper, "export", str(work)], check=True)
    weights = load_file(str(work / "resnet50_gray.safetensors"))
    io = load_file(str(work / "cpp_io.safetensors"))
    x = io["input"]
    styles = (io["layer4_os16_smp"] - io["layer4_os16_torchvision"]).abs().max().item()
    check(styles > 1e-3, f"torchvision and smp dilation styles differ (max |diff| {styles:.3g}), "
          "so each OS-16 match below is specific")
    check(len(weights) == 318, f"C++ export has {len(weights)} entries (torchvision: 318 w/o fc)")

    with torch.no_grad():
        for name, kwargs, key in [
            ("torchvision resnet50", {}, "layer4_os32"),
            ("torchvision resnet50 (layer4 dilated)",
             {"replace_stride_with_dilation": [False, False, True]}, "layer4_os16_torchvision"),
        ]:
            model = grey_torchvision(**kwargs)
            result = model.load_state_dict(weights, strict=False)
            check(sorted(result.missing_keys) == ["fc.bias", "fc.weight"]
                  and not result.unexpected_keys,
                  f"{name}: strict=False load, missing {result.missing_keys}, "
                  f"unexpected {result.unexpected_keys}")
            compare(name, torchvision_layer4(model.eval(), x), io[key])

        prefixed = {"encoder." + k: v for k, v in weights.items()}
        for name, model, key in [
            ("smp Unet encoder",
             smp.Unet("resnet50", encoder_weights=None, in_channels=1, classes=3), "layer4_os32"),
            ("smp DeepLabV3Plus encoder (OS 16)",
             smp.DeepLabV3Plus("resnet50", encoder_weights=None, in_channels=1, classes=3,
                               encoder_output_stride=16), "layer4_os16_smp"),
        ]:
            result = model.load_state_dict(prefixed, strict=False)
            encoder_missing = [k for k in result.missing_keys if k.startswith("encoder.")]
            check(not encoder_missing and not result.unexpected_keys,
                  f"{name}: loads under 'encoder.' (missing encoder keys {encoder_missing}, "
                  f"unexpected {result.unexpected_keys})")
            compare(name, model.encoder.eval()(x)[-1], io[key])


def python_to_cpp(helper, work):
    torch.manual_seed(7)
    rgb = torchvision.models.resnet50(weights=None)
    with torch.no_grad():
        for module in rgb.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.num_batches_tracked.fill_(99)
    rgb.eval()
    # A plain dict of contiguous tensors: what a user exporting ImageNet weights would write.
    save_file({k: v.contiguous() for k, v in rgb.state_dict().items()},
              str(work / "torchvision_rgb.safetensors"))

    grey = grey_torchvision()
    state = dict(rgb.state_dict())
    state["conv1.weight"] = state["conv1.weight"].sum(dim=1, keepdim=True)
    grey.load_state_dict(state)
    grey.eval()
    x_rgb = torch.rand(2, 3, 64, 64)
    x_grey = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        save_file({"input_rgb": x_rgb, "layer4_rgb": torchvision_layer4(rgb, x_rgb),
                   "input_gray": x_grey, "layer4_gray": torchvision_layer4(grey, x_grey)},
                  str(work / "python_io.safetensors"))
    done = subprocess.run([helper, "import", str(work)])
    check(done.returncode == 0, "C++ loads torchvision-layout weights and matches layer4")


def main():
    helper, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    # Two threads, as the C++ helper: with one, torch runs the 1x1 convolutions of a batch under
    # 16 outside oneDNN, and the OS-16 layer4s of both sides then differ by ~4e-4 (not 0).
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"smp {smp.__version__}", flush=True)
    cpp_to_python(helper, work)
    python_to_cpp(helper, work)
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
