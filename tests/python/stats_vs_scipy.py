"""Cross-check: the toolkit's paired statistics equal SciPy's on the same numbers.

scipy.stats.wilcoxon with its defaults (zero_method='wilcox', correction=False, two-sided,
method='auto') and scipy.stats.ttest_rel with confidence_interval(0.95), over random vectors of
n = 0..60 (and a few larger): continuous Dice-like scores, values on a grid (ties and zero
differences), rounded to two decimals, all-positive / all-negative differences, all-zero and
constant differences. Statistics and p-values agree to 1e-9 (relative), and the null distribution
the toolkit reports is the one SciPy's 'auto' picked: SciPy, forced to that method, gives the
'auto' p-value (SciPy's permutation test is slow, so it is run only where the exact and the
asymptotic p-values do not already rule each other out).
"""
import math
import subprocess
import sys
import warnings

import numpy as np
import scipy
from scipy import stats


def close(ours, ref, rtol, atol=0.0):
    if math.isnan(ref) or math.isnan(ours):
        return math.isnan(ref) and math.isnan(ours)
    if math.isinf(ref) or math.isinf(ours):
        return ours == ref
    return abs(ours - ref) <= rtol * abs(ref) + atol


def make_cases(rng):
    """(name, a, b) triples."""
    cases = [("empty", np.zeros(0), np.zeros(0))]
    grid = 64.0  # values k/64 make differences exact, hence genuine ties and zeros
    for n in range(1, 61):
        base = rng.uniform(0.6, 0.95, n)
        cases.append(("continuous", base, base - rng.normal(0.005, 0.02, n)))
        a = rng.integers(40, 64, n) / grid
        b = rng.integers(40, 64, n) / grid
        cases.append(("grid", a, b))
        b_no_zero = np.where(a == b, b - 1 / grid, b)
        cases.append(("grid_no_zero", a, b_no_zero))
        cases.append(("rounded", np.round(base, 2), np.round(base - rng.normal(0, 0.02, n), 2)))
        cases.append(("positive", base + rng.uniform(1e-3, 0.05, n), base))
        cases.append(("negative", base - rng.uniform(1e-3, 0.05, n), base))
        cases.append(("tiny_effect", base, base - rng.normal(0, 1e-3, n) - 1e-4))
        if n >= 3:
            b_zeros = base - rng.normal(0, 0.02, n)
            idx = rng.choice(n, size=int(rng.integers(1, min(n, 4))), replace=False)
            b_zeros[idx] = base[idx]
            cases.append(("some_zeros", base, b_zeros))
    for n in (100, 500):
        base = rng.uniform(0.6, 0.95, n)
        cases.append(("large", base, base - rng.normal(0.002, 0.02, n)))
        a = rng.integers(40, 64, n) / grid
        cases.append(("large_grid", a, rng.integers(40, 64, n) / grid))
    for n in (2, 5, 13, 14, 30, 50, 51):
        a = rng.uniform(0.6, 0.95, n)
        cases.append(("all_zero", a, a.copy()))
    for n in (2, 3, 10, 13, 14, 40, 60):
        a = rng.integers(32, 64, n) / grid
        cases.append(("constant", a, a - 0.25))  # exact: SciPy's variance is 0 too
    # Exact null distribution at its largest n, both tails (SciPy sums each tail differently).
    d = np.arange(1, 51) / 128.0
    cases.append(("exact50_positive", 0.5 + d, np.full(50, 0.5)))
    cases.append(("exact50_negative", np.full(50, 0.5), 0.5 + d))
    return cases


def run_tool(tool, cases):
    lines = []
    for _, a, b in cases:
        lines.append(" ".join([str(len(a))] + [repr(float(v)) for v in np.concatenate([a, b])]))
    out = subprocess.run([tool], input="\n".join(lines) + "\n", check=True, capture_output=True,
                         text=True).stdout
    rows = [line.split() for line in out.strip().splitlines()]
    assert len(rows) == len(cases), f"{len(rows)} result lines for {len(cases)} cases"
    return rows


def scipy_wilcoxon_p(a, b, method):
    if method == "permutation":
        method = stats.PermutationMethod()  # exact for n <= 13 (2^13 < 9999 resamples)
    return float(stats.wilcoxon(a, b, method=method).pvalue)


def main(tool):
    warnings.simplefilter("ignore")  # SciPy warns about ties, zeros and zero variance
    rng = np.random.default_rng(20240611)
    cases = make_cases(rng)
    rows = run_tool(tool, cases)
    failures = []
    methods = {}
    discriminating = 0  # cases where another method would have given a different p-value

    for (name, a, b), row in zip(cases, rows):
        n = len(a)
        label = f"{name} n={n}"

        def check(what, ours, ref, rtol, atol=0.0, names=("ours", "SciPy")):
            if not close(ours, ref, rtol, atol):
                failures.append(f"{label}: {what}: {names[0]} {ours!r}, {names[1]} {ref!r}")

        assert row[0] != "error", f"{label}: {' '.join(row)}"
        zeros = int(row[1])
        mean, ci_low, ci_high, t, t_p, w, w_p = (float(v) for v in row[2:9])
        method = row[9]
        methods[method] = methods.get(method, 0) + 1
        if zeros != int(np.sum(a == b)):
            failures.append(f"{label}: {zeros} zero differences reported")

        tt = stats.ttest_rel(a, b)
        ci = tt.confidence_interval(0.95)
        check("mean", mean, float(np.mean(a - b)) if n else math.nan, 1e-12, 1e-15)
        check("t", t, float(tt.statistic), 1e-9, 1e-12)
        check("t p-value", t_p, float(tt.pvalue), 1e-9, 1e-300)
        check("ci low", ci_low, float(ci.low), 1e-9, 1e-12)
        check("ci high", ci_high, float(ci.high), 1e-9, 1e-12)

        if n == 1 and a[0] == b[0]:
            continue  # SciPy refuses a single zero difference; the unit tests cover ours (p = 1)
        res = stats.wilcoxon(a, b)
        check("W", w, float(res.statistic), 0.0)
        # SciPy's exact upper tail is 1 - (lower tail), good to ~1e-16 absolute only.
        check("W p-value", w_p, float(res.pvalue), 1e-9, 1e-15 if method == "exact" else 0.0)
        if n == 0:
            continue
        # The method. SciPy forced to exact and to asymptotic ...
        p_auto = float(res.pvalue)
        forced = {m: scipy_wilcoxon_p(a, b, m) for m in ("exact", "asymptotic")}
        if method in forced:  # ... reproduces 'auto' with the method we report;
            check(f"Wilcoxon p-value, method={method}", forced[method], p_auto, 1e-12, 1e-15,
                  names=("SciPy forced", "SciPy auto"))
        elif any(close(p, p_auto, 1e-12, 1e-15) for p in forced.values()):
            # the permutation test (SciPy's slow path) only where the others are no proof.
            check("Wilcoxon p-value, permutation test", scipy_wilcoxon_p(a, b, method), p_auto,
                  1e-12, 1e-15, names=("SciPy forced", "SciPy auto"))
        # (Otherwise 'auto' matched neither: it is the permutation test, its only other choice.)
        if any(not close(p, p_auto, 1e-6) for m, p in forced.items() if m != method):
            discriminating += 1

    print(f"SciPy {scipy.__version__}, {len(cases)} cases; Wilcoxon methods: "
          + ", ".join(f"{k} {v}" for k, v in sorted(methods.items()))
          + f"; {discriminating} cases where another method's p-value differs")
    if failures:
        print(f"{len(failures)} mismatches:")
        for line in failures[:40]:
            print("  " + line)
        return 1
    assert all(methods.get(m, 0) > 20 for m in ("exact", "permutation", "asymptotic")), methods
    assert discriminating > 100, discriminating
    print("paired t-test, its 95 % interval and the Wilcoxon signed-rank test equal SciPy's")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
