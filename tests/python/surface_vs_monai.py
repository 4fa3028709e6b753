"""Cross-check: the toolkit's HD95 and ASSD equal MONAI's compute_hausdorff_distance(percentile=95)
and compute_average_surface_distance(symmetric=True) on random blob masks of several sizes, blobs
touching the image border, thin and speckled shapes, anisotropic spacing, ignored pixels (255) and
every empty-mask case.

Two comparisons, because MONAI returns float32 (its distances are cast to float32 before
torch.quantile and the mean):
- against MONAI's own definition evaluated in float64 (monai.metrics.utils.get_mask_edges with its
  crop, scipy's distance_transform_edt with sampling=spacing, numpy.percentile, the mean of both
  directed sets): to 1e-9;
- against MONAI's HausdorffDistanceMetric / SurfaceDistanceMetric themselves (ignore_index=255):
  to rtol 1e-5. MONAI rounds the distances to float32 and torch.quantile takes q = 0.95 in
  float32 (0.949999988), which moves the interpolation index by (n - 1) x 1.2e-8: relative
  differences of about 1e-6 on hundreds of edge pixels, so 1e-5 leaves a tenfold margin.
"""
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import monai
import numpy as np
import torch
from monai.metrics import HausdorffDistanceMetric, SurfaceDistanceMetric
from monai.metrics.utils import get_mask_edges
from scipy.ndimage import distance_transform_edt

CLASSES = 3
IGNORE = 255


def random_maps(rng, n, h, w):
    """Predictions and targets with ellipse blobs (some cut by the border), thin lines, speckles,
    ignored regions and empty classes."""
    rows, cols = np.mgrid[0:h, 0:w]
    truth = np.zeros((n, h, w), np.uint8)
    pred = np.zeros((n, h, w), np.uint8)
    for i in range(n):
        for c in (1, 2):
            for _ in range(rng.integers(1, 3)):  # one or two blobs per class
                # Centres may lie up to a radius outside the image, so some blobs touch the border.
                cy, cx = rng.uniform(-0.1, 1.1) * h, rng.uniform(-0.1, 1.1) * w
                ry, rx = rng.uniform(0.08, 0.35) * h, rng.uniform(0.08, 0.35) * w
                blob = ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= 1
                truth[i][blob] = c
                # The prediction: the same blob shifted and rescaled a little.
                sy, sx = rng.normal(0, 2, 2)
                ky, kx = rng.uniform(0.8, 1.2, 2)
                blob = ((rows - cy - sy) / (ry * ky)) ** 2 + ((cols - cx - sx) / (rx * kx)) ** 2 <= 1
                pred[i][blob] = c
        speckle = rng.random((h, w)) < rng.choice([0.0, 0.005, 0.03])
        pred[i][speckle] = rng.integers(0, CLASSES, speckle.sum())
        if rng.random() < 0.3:  # a one-pixel line, all edge
            pred[i, rng.integers(0, h), rng.integers(0, w // 2):] = rng.integers(1, CLASSES)
        if rng.random() < 0.4:  # an unlabelled region
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            truth[i, y0:y0 + h // 4, x0:x0 + w // 4] = IGNORE
    # Every empty-mask case: class 2 absent from the prediction, from the target, from both;
    # class 1 present in the prediction only on ignored pixels.
    pred[0][pred[0] == 2] = 0
    truth[1][truth[1] == 2] = 0
    pred[1, 0, 0] = 2
    pred[2][pred[2] == 2] = 0
    truth[2][truth[2] == 2] = 0
    truth[3][truth[3] == 1] = 0
    pred[3][pred[3] == 1] = 0
    truth[3, : h // 3, : w // 3] = IGNORE
    pred[3, : h // 3, : w // 3] = 1
    return pred, truth


def run_tool(tool, pred, truth, spacing):
    n, h, w = pred.shape
    with tempfile.TemporaryDirectory() as tmp:
        pred_file, truth_file = Path(tmp) / "pred.raw", Path(tmp) / "truth.raw"
        pred.tofile(pred_file)
        truth.tofile(truth_file)
        out = subprocess.run([tool, str(pred_file), str(truth_file), str(n), str(h), str(w),
                              str(CLASSES), repr(spacing[0]), repr(spacing[1])],
                             check=True, capture_output=True, text=True).stdout
    status = np.empty((n, CLASSES - 1), object)
    values = np.full((n, CLASSES - 1, 2), np.nan)
    for line in out.strip().splitlines():
        i, c, s, hd95, assd = line.split()
        status[int(i), int(c) - 1] = s
        values[int(i), int(c) - 1] = float(hd95), float(assd)
    return status, values


def reference(pred, truth, spacing):
    """MONAI's definition in float64: its edges, scipy's exact EDT, numpy's percentile."""
    n = pred.shape[0]
    values = np.full((n, CLASSES - 1, 2), np.nan)
    status = np.empty((n, CLASSES - 1), object)
    for i in range(n):
        valid = truth[i] != IGNORE
        for c in range(1, CLASSES):
            p, t = (pred[i] == c) & valid, truth[i] == c
            if not p.any() or not t.any():
                status[i, c - 1] = ("both_empty" if not p.any() and not t.any() else
                                    "prediction_empty" if not p.any() else "target_empty")
                continue
            status[i, c - 1] = "defined"
            edges_p, edges_t = get_mask_edges(p, t)  # crop=True, as the metrics call it
            to_t = distance_transform_edt(~edges_t, sampling=spacing)[edges_p]
            to_p = distance_transform_edt(~edges_p, sampling=spacing)[edges_t]
            values[i, c - 1] = (max(np.percentile(to_t, 95), np.percentile(to_p, 95)),
                                np.concatenate([to_t, to_p]).mean())
    return status, values


def monai_metrics(pred, truth, spacing):
    y_pred = torch.from_numpy(np.stack([pred == k for k in range(CLASSES)], 1)).float()
    # Ignored pixels are all-zero in the one-hot target: MONAI's ignore_index sentinel masks them.
    y = torch.from_numpy(np.stack([truth == k for k in range(CLASSES)], 1)).float()
    hd = HausdorffDistanceMetric(include_background=False, percentile=95, reduction="none",
                                 ignore_index=IGNORE)
    asd = SurfaceDistanceMetric(include_background=False, symmetric=True, reduction="none",
                                ignore_index=IGNORE)
    spacing = list(spacing)
    return np.stack([hd(y_pred, y, spacing=spacing).numpy(),
                     asd(y_pred, y, spacing=spacing).numpy()], -1).astype(np.float64)


def main(tool: str) -> int:
    warnings.simplefilter("ignore")  # MONAI warns on every empty mask, which we test on purpose
    rng = np.random.default_rng(20240610)
    groups = [((10, 24, 20), (1.0, 1.0)), ((10, 48, 64), (0.7, 1.3)),
              ((8, 96, 80), (2.0, 0.5)), ((8, 33, 130), (1.0, 3.0)), ((6, 128, 128), (1.0, 1.0))]
    defined = touching = 0
    worst_ref = worst_monai = 0.0
    for (n, h, w), spacing in groups:
        pred, truth = random_maps(rng, n, h, w)
        status, ours = run_tool(tool, pred, truth, spacing)
        ref_status, ref = reference(pred, truth, spacing)
        monai_values = monai_metrics(pred, truth, spacing)
        assert (status == ref_status).all(), f"{h}x{w}: statuses {status} != {ref_status}"
        ok = status == "defined"
        assert np.isnan(ours[~ok]).all(), "an empty mask got a number"
        # Where MONAI has no number (nan or inf: one or both masks empty), we report a status.
        assert (~np.isfinite(monai_values[~ok])).all(), "MONAI scored an empty case"
        np.testing.assert_allclose(ours[ok], ref[ok], rtol=0, atol=1e-9)
        np.testing.assert_allclose(ours[ok], monai_values[ok], rtol=1e-5, atol=1e-5)
        worst_ref = max(worst_ref, float(np.abs(ours[ok] - ref[ok]).max()))
        worst_monai = max(worst_monai, float((np.abs(ours[ok] - monai_values[ok]) /
                                              np.maximum(monai_values[ok], 1e-12)).max()))
        defined += int(ok.sum())
        for i in range(n):
            border = np.concatenate([truth[i, 0], truth[i, -1], truth[i, :, 0], truth[i, :, -1]])
            touching += int(np.isin(border, (1, 2)).any())
        for s in ("both_empty", "prediction_empty", "target_empty"):
            assert (status == s).any(), f"{h}x{w}: no {s} case"
    assert touching >= 10, f"only {touching} images with a lung class on the border"
    print(f"MONAI {monai.__version__}: HD95 and ASSD of {defined} (image, class) pairs equal the "
          f"float64 reference (max |diff| {worst_ref:.1e}) and MONAI's float32 metrics (max rel "
          f"diff {worst_monai:.1e}); {touching} images touch the border; empty cases reported")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
