"""Cross-check: the toolkit's per-image Dice equals MONAI's DiceMetric on the same predictions,
including the empty-mask cases, and its pooled Dice equals the sums over the fold; its
fine-tuning losses equal MONAI's DiceLoss (lung classes, softmax, pooled over the batch) and
torch's cross-entropy, with and without ignored pixels."""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from monai.losses import DiceLoss
from monai.metrics import DiceMetric


def main(tool: str) -> int:
    rng = np.random.default_rng(1234)
    n, h, w, classes = 12, 40, 36, 3
    truth = np.zeros((n, h, w), np.uint8)
    for i in range(n):  # two blobs ("lungs") with random extents
        truth[i, 5:5 + rng.integers(5, 30), 2:2 + rng.integers(4, 15)] = 1
        truth[i, 8:8 + rng.integers(5, 28), 20:20 + rng.integers(4, 14)] = 2
    pred = truth.copy()
    noise = rng.random((n, h, w)) < 0.15
    pred[noise] = rng.integers(0, classes, noise.sum())
    truth[3][truth[3] == 2] = 0            # class 2 absent from the truth ...
    pred[3][pred[3] == 2] = 0              # ... and from the prediction: Dice 1
    truth[5][truth[5] == 1] = 0            # class 1 absent from the truth, present in pred: 0
    pred[5, 0, 0] = 1
    pred[7][:] = 0                         # empty prediction
    with tempfile.TemporaryDirectory() as tmp:
        pred_file, truth_file = Path(tmp) / "pred.raw", Path(tmp) / "truth.raw"
        pred.tofile(pred_file)
        truth.tofile(truth_file)
        out = subprocess.run([tool, str(pred_file), str(truth_file), str(n), str(h), str(w),
                              str(classes)], check=True, capture_output=True, text=True).stdout
    lines = [line.split() for line in out.strip().splitlines()]
    ours = np.array([[float(v) for v in line[1:]] for line in lines if line[0] == "image"])
    pooled = np.array([float(v) for v in lines[-1][1:]])

    def one_hot(x):
        return torch.nn.functional.one_hot(torch.from_numpy(x).long(), classes).permute(0, 3, 1, 2)

    metric = DiceMetric(include_background=False, reduction="none", ignore_empty=False)
    monai = metric(one_hot(pred), one_hot(truth)).numpy()
    np.testing.assert_allclose(ours, monai, atol=1e-6)
    for c in (1, 2):
        tp = np.sum((pred == c) & (truth == c))
        fp = np.sum((pred == c) & (truth != c))
        fn = np.sum((pred != c) & (truth == c))
        np.testing.assert_allclose(pooled[c - 1], 2 * tp / (2 * tp + fp + fn), atol=1e-9)
    assert ours[3, 1] == 1.0 and ours[5, 0] == 0.0, "empty-mask rule"
    print(f"per-image Dice of {n} images x 2 classes equals MONAI's; pooled Dice checked")
    check_losses(tool, truth, rng)
    return 0


def check_losses(tool: str, truth: np.ndarray, rng: np.random.Generator) -> None:
    n, h, w = truth.shape
    classes = 3
    logits = rng.normal(0.0, 2.0, (n, classes, h, w)).astype(np.float32)
    ignored = truth.copy()
    ignored[:, :3, :] = 255  # the augmentation's fill: a band outside the image
    for labels in (truth, ignored):
        with tempfile.TemporaryDirectory() as tmp:
            logits_file, truth_file = Path(tmp) / "logits.raw", Path(tmp) / "truth.raw"
            logits.tofile(logits_file)
            labels.tofile(truth_file)
            out = subprocess.run([tool, "--loss", str(logits_file), str(truth_file), str(n),
                                  str(h), str(w), str(classes)],
                                 check=True, capture_output=True, text=True).stdout
        ours = {key: float(value) for key, value in (line.split() for line in out.splitlines())}
        valid = labels != 255
        # MONAI has no ignore index: the ignored pixels leave both the prediction and the truth.
        prediction = torch.softmax(torch.from_numpy(logits), 1) * torch.from_numpy(valid)[:, None]
        target = torch.nn.functional.one_hot(torch.from_numpy(np.where(valid, labels, 0)).long(),
                                             classes).permute(0, 3, 1, 2)
        target = target * torch.from_numpy(valid)[:, None]
        for key, smooth in (("soft_dice", 1.0), ("soft_dice_unsmoothed", 0.0)):
            loss = DiceLoss(include_background=False, batch=True, smooth_nr=smooth,
                            smooth_dr=smooth)
            np.testing.assert_allclose(ours[key], loss(prediction, target).item(), atol=1e-5)
        reference = torch.nn.functional.cross_entropy(
            torch.from_numpy(logits), torch.from_numpy(labels.astype(np.int64)), ignore_index=255)
        np.testing.assert_allclose(ours["cross_entropy"], reference.item(), atol=1e-5)
    print(f"soft Dice and cross-entropy of {n} x {classes} x {h} x {w} logits equal MONAI's "
          "DiceLoss and torch's cross_entropy, with and without ignored pixels")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
