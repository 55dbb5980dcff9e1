"""Independent reference for engine/tests/overfit.rs: the Deflated Sharpe Ratio and the
Probability of Backtest Overfitting, written straight from the papers with numpy, pandas and the
standard library's NormalDist (no code shared with the Rust crate).

* Bailey & Lopez de Prado (2014), "The Deflated Sharpe Ratio: Correcting for Selection Bias,
  Backtest Overfitting and Non-Normality", J. Portfolio Management 40(5): eqs. for PSR and
  E[max SR] (the expected maximum of N standard normals, with the Euler-Mascheroni constant).
* Bailey, Borwein, Lopez de Prado & Zhu (2017), "The Probability of Backtest Overfitting",
  J. Computational Finance 20(4): CSCV, section 2.

Input (JSON file, argv[1]): {"columns": [[r_1 .. r_T], ...N columns], "blocks": [S, ...]}.
Each column is one strategy's per-period returns. Output (stdout, JSON):
  dsr: best column (highest mean/std, first on ties), its T, Sharpe, skewness, kurtosis,
       N, V, SR0, PSR(0), DSR, all per period (not annualised);
  pbo: for each S, the PBO, block bounds and every split (in-sample blocks, chosen column,
       in/out-of-sample Sharpe, relative rank, logit).

Conventions (the ones settle documents in docs/METRICS.md):
  Sharpe = mean / std with ddof=1; skewness and kurtosis use population moments (divide by T),
  kurtosis not excess; V = variance of the N Sharpe ratios with ddof=1; block k = rows
  floor(k*T/S) .. floor((k+1)*T/S); out-of-sample ties share their average rank (pandas).

Usage: python overfit_reference.py INPUT.json
"""

import itertools
import json
import math
import sys
from statistics import NormalDist

import numpy as np
import pandas as pd

EULER_GAMMA = 0.5772156649015329


def sharpe(m):
    """Per-column mean / sample std of a (rows x columns) array; flat columns get 0 or +-inf."""
    mean = m.mean(axis=0)
    sd = m.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(sd > 0, mean / sd, np.sign(mean) * np.inf)
    return np.where((sd == 0) & (mean == 0), 0.0, out)


def dsr(matrix):
    srs = sharpe(matrix)
    best = int(np.argmax(srs))
    x = matrix[:, best]
    t = len(x)
    d = x - x.mean()
    m2, m3, m4 = (np.mean(d**k) for k in (2, 3, 4))
    skew, kurt = m3 / m2**1.5, m4 / m2**2
    sr = float(srs[best])
    n = len(srs)
    v = float(np.var(srs, ddof=1))
    z = NormalDist()
    sr0 = math.sqrt(v) * (
        (1 - EULER_GAMMA) * z.inv_cdf(1 - 1 / n) + EULER_GAMMA * z.inv_cdf(1 - 1 / (n * math.e))
    )

    def psr(benchmark):
        return z.cdf((sr - benchmark) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))

    return {
        "best": best,
        "observations": t,
        "sharpe": sr,
        "skewness": float(skew),
        "kurtosis": float(kurt),
        "trials": n,
        "variance": v,
        "sr0": sr0,
        "psr": psr(0.0),
        "dsr": psr(sr0),
    }


def pbo(matrix, s):
    t, n = matrix.shape
    bounds = [k * t // s for k in range(s + 1)]
    blocks = [np.arange(bounds[k], bounds[k + 1]) for k in range(s)]
    splits = []
    for is_blocks in itertools.combinations(range(s), s // 2):
        oos_blocks = [b for b in range(s) if b not in is_blocks]
        rows_is = np.concatenate([blocks[b] for b in is_blocks])
        rows_oos = np.concatenate([blocks[b] for b in oos_blocks])
        r_is, r_oos = sharpe(matrix[rows_is]), sharpe(matrix[rows_oos])
        best = int(np.argmax(r_is))
        rank = float(pd.Series(r_oos).rank(method="average").iloc[best])
        w = rank / (n + 1)
        splits.append(
            {
                "in_sample_blocks": list(is_blocks),
                "best": best,
                "in_sample_sharpe": float(r_is[best]),
                "out_of_sample_sharpe": float(r_oos[best]),
                "relative_rank": w,
                "logit": math.log(w / (1 - w)),
            }
        )
    overfit = sum(1 for sp in splits if sp["logit"] <= 0)
    return {"pbo": overfit / len(splits), "bounds": bounds, "splits": splits}


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    matrix = np.array(spec["columns"], dtype=float).T  # rows = periods, columns = strategies
    out = {"dsr": dsr(matrix), "pbo": {str(s): pbo(matrix, s) for s in spec["blocks"]}}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
