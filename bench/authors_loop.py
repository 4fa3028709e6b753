"""Times the authors' own pre-training loop (github.com/dewenzeng/CL-TCI) on this machine.

Their code is imported from a clone outside this repository (--repo) and run as their training
scripts run it: their BCH folder-per-patient dataset with its PIL augmentations, a shuffled
torch DataLoader with --workers processes and drop_last, their MoCo module (K = 3072, m = 0.999,
T = 0.1) or their encoder + SupConLoss for SimCLR, SGD (lr 0.1, momentum 0.9, weight decay
1e-5) under their cosine scheduler with warm-up, and `loss.item()` every step. Only what their
code needs to import or run on today's libraries and on a CPU is patched, and every patch is
printed (cl-tci-reference.md lists the version problems):

* torchvision >= 0.13 renamed `affine(resample=, fillcolor=)` to `interpolation=, fill=`;
* `torchvision.models.utils` moved to `torch.hub` (their ResNet file imports it at load time);
* their MoCo loss calls `.cuda()` unconditionally: identity on a CPU-only machine;
* modules imported at load time but never called on the timed path (cv2: elastic transform;
  SimpleITK: a curvature-flow denoiser;
  matplotlib: plotting helpers; batchgenerators' file helpers, whose star import is how
  dataset/bch.py gets `os`) are replaced by empty ones only when they are not installed.

Prints one line `authors_loop img/s <rate> ...` that cltci_pretrain_bench reads.
"""

import argparse
import os
import sys
import time
import types


def install_compat(patches):
    import torch
    import torchvision.transforms.functional as tf
    from torchvision.transforms import InterpolationMode

    original_affine = tf.affine
    modes = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC}

    def affine(img, *args, resample=None, fillcolor=None, **kwargs):
        if resample is not None:
            kwargs["interpolation"] = modes.get(resample, InterpolationMode.NEAREST)
        if fillcolor is not None:
            kwargs["fill"] = fillcolor
        return original_affine(img, *args, **kwargs)

    tf.affine = affine
    patches.append("torchvision affine(resample=, fillcolor=) -> (interpolation=, fill=)")

    import torchvision.models

    if not hasattr(torchvision.models, "utils"):
        utils = types.ModuleType("torchvision.models.utils")
        utils.load_state_dict_from_url = torch.hub.load_state_dict_from_url
        sys.modules["torchvision.models.utils"] = utils
        torchvision.models.utils = utils
        patches.append("torchvision.models.utils -> torch.hub")

    if not torch.cuda.is_available():
        torch.Tensor.cuda = lambda self, *a, **k: self
        torch.nn.Module.cuda = lambda self, *a, **k: self
        patches.append(".cuda() -> identity (no GPU)")

    def empty_if_missing(name, **attributes):
        try:
            __import__(name)
        except ImportError:
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                sub = ".".join(parts[:i])
                if sub not in sys.modules:
                    sys.modules[sub] = types.ModuleType(sub)
                if i > 1:
                    setattr(sys.modules[".".join(parts[: i - 1])], parts[i - 1], sys.modules[sub])
            for key, value in attributes.items():
                setattr(sys.modules[name], key, value)
            patches.append(f"{name}: not installed, empty module (not on the timed path)")

    empty_if_missing("cv2")
    empty_if_missing("SimpleITK")
    empty_if_missing("matplotlib.pyplot")
    empty_if_missing("batchgenerators.utilities.file_and_folder_operations", os=os)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", required=True, help="a clone of dewenzeng/CL-TCI")
    parser.add_argument("--data", required=True, help="a folder with a sub-folder of images per patient")
    parser.add_argument("--arch", choices=["unet", "resnet50"], default="unet")
    parser.add_argument("--method", choices=["cltci_moco", "moco", "cltci_simclr", "simclr"], default="cltci_moco")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()

    repo = os.path.abspath(args.repo)
    for required in ("network/moco.py", "network/unet2d.py", "dataset/bch.py", "lr_scheduler.py"):
        if not os.path.isfile(os.path.join(repo, required)):
            sys.exit(f"authors_loop: '{repo}' is not a CL-TCI clone ({required} not found)")
    if not os.path.isdir(args.data):
        sys.exit(f"authors_loop: '{args.data}': data folder not found")

    patches = []
    install_compat(patches)
    sys.path.insert(0, repo)
    import torch
    from dataset.bch import BCH
    from lr_scheduler import LR_Scheduler
    from network.moco import MoCo

    torch.manual_seed(12345)
    torch.set_num_threads(args.threads)
    if args.arch == "unet":
        from network.unet2d import UNet2D_contrastive

        def encoder(classes=512):
            return UNet2D_contrastive(in_channels=1, initial_filter_size=32, kernel_size=3, classes=classes, do_instancenorm=True)
    else:
        from network.deeplabv3plus import deeplabv3_resnet50_contrast

        def encoder(classes=512):
            return deeplabv3_resnet50_contrast(classes=classes, pretrained_backbone=False)

    moco = args.method in ("cltci_moco", "moco")
    vanilla = args.method in ("moco", "simclr")
    if moco:
        model = MoCo(encoder, dim=512, K=3072, m=0.999, T=0.1)
        criterion = None
    else:
        from loss.contrastive_loss import SupConLoss

        model = encoder(512)
        criterion = SupConLoss(temperature=0.1)

    config = argparse.Namespace(data_dir=args.data, do_contrast=True, patch_size=args.size)
    dataset = BCH(keys=None, purpose="train", args=config)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch, shuffle=True, num_workers=args.workers, drop_last=True)
    if len(loader) == 0:
        sys.exit(f"authors_loop: {len(dataset)} images in '{args.data}' make no batch of {args.batch}")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-5)
    scheduler = LR_Scheduler("cos", 0.1, 500, len(loader), warmup_epochs=10)
    model.train()

    total = args.warmup + args.steps
    done = 0
    epoch = 0
    start = None
    while done < total:
        for batch_idx, (img1, img2, label) in enumerate(loader):
            if done == args.warmup:
                start = time.perf_counter()
            scheduler(optimizer, batch_idx, epoch)
            image1 = img1.float()
            image2 = img2.float()
            label = label.long()
            if moco:
                loss = model(im_q=image1, im_k=image2, pseudo_label=label, vanilla=vanilla).mean()
            else:
                features = torch.cat([model(image1).unsqueeze(1), model(image2).unsqueeze(1)], dim=1)
                loss = criterion(features) if vanilla else criterion(features, labels=label)
            loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done += 1
            if done == total:
                break
        epoch += 1
    seconds = time.perf_counter() - start
    print("authors_loop patches: " + "; ".join(patches), file=sys.stderr)
    print(
        f"authors_loop img/s {args.batch * args.steps / seconds:.4f} arch {args.arch} method {args.method} "
        f"batch {args.batch} workers {args.workers} threads {args.threads} images {len(dataset)} "
        f"steps {args.steps} seconds {seconds:.3f}"
    )


if __name__ == "__main__":
    main()
