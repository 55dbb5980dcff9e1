"""TA-Lib reference outputs for strategies/tests/talib_parity.rs.

Reads real bars from the shared data directory, runs every indicator the Rust crate implements
through the TA-Lib Python package (which bundles the C library) for several parameter sets, and
writes, into OUT_DIR:

* one little-endian float64 file per output series (NaN kept bit for bit), and
* manifest.json listing the cases: dataset, TA-Lib function, parameters and output files.

The Rust test parses the same input files itself, so inputs are never passed through here.

Usage: python talib_reference.py DATA_DIR OUT_DIR
"""

import csv
import gzip
import json
import sys
from pathlib import Path

import numpy as np
import talib

CL_DAILY = "converted/rtl/cushing_c1_CL_front_ohlc_daily.csv"
SIX_E_MINUTES = "raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"

# (function, parameter sets). Parameter names are TA-Lib's; matype codes are TA-Lib's
# (0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 6 KAMA).
CLOSE_ONLY = [
    ("SMA", [{"timeperiod": p} for p in (1, 2, 10, 30)]),
    ("EMA", [{"timeperiod": p} for p in (1, 2, 10, 30)]),
    ("WMA", [{"timeperiod": p} for p in (1, 2, 10, 30)]),
    ("DEMA", [{"timeperiod": p} for p in (2, 10, 30)]),
    ("TEMA", [{"timeperiod": p} for p in (2, 10, 30)]),
    ("KAMA", [{"timeperiod": p} for p in (2, 10, 30)]),
    ("RSI", [{"timeperiod": p} for p in (2, 14, 30)]),
    (
        "MACD",
        [
            {"fastperiod": 12, "slowperiod": 26, "signalperiod": 9},
            {"fastperiod": 5, "slowperiod": 35, "signalperiod": 5},
            {"fastperiod": 26, "slowperiod": 12, "signalperiod": 1},
        ],
    ),
    (
        "BBANDS",
        [
            {"timeperiod": 20, "nbdevup": 2.0, "nbdevdn": 2.0, "matype": 0},
            {"timeperiod": 5, "nbdevup": 1.5, "nbdevdn": 2.5, "matype": 0},
            {"timeperiod": 10, "nbdevup": 2.0, "nbdevdn": 1.0, "matype": 1},
            {"timeperiod": 10, "nbdevup": 1.0, "nbdevdn": 2.0, "matype": 6},
        ],
    ),
    (
        "STOCHRSI",
        [
            {"timeperiod": 14, "fastk_period": 5, "fastd_period": 3, "fastd_matype": 0},
            {"timeperiod": 14, "fastk_period": 14, "fastd_period": 3, "fastd_matype": 1},
        ],
    ),
    ("ROC", [{"timeperiod": p} for p in (1, 10)]),
    ("MOM", [{"timeperiod": p} for p in (1, 10)]),
    ("MAX", [{"timeperiod": p} for p in (2, 30)]),
    ("MIN", [{"timeperiod": p} for p in (2, 30)]),
    ("STDDEV", [{"timeperiod": 5, "nbdev": 1.0}, {"timeperiod": 20, "nbdev": 2.0}]),
    ("LINEARREG_SLOPE", [{"timeperiod": p} for p in (2, 14)]),
]
HLC = [
    ("TRANGE", [{}]),
    ("ATR", [{"timeperiod": p} for p in (1, 14, 30)]),
    ("NATR", [{"timeperiod": p} for p in (1, 14)]),
    (
        "STOCH",
        [
            {"fastk_period": 5, "slowk_period": 3, "slowk_matype": 0, "slowd_period": 3, "slowd_matype": 0},
            {"fastk_period": 14, "slowk_period": 1, "slowk_matype": 0, "slowd_period": 1, "slowd_matype": 0},
            {"fastk_period": 9, "slowk_period": 3, "slowk_matype": 1, "slowd_period": 4, "slowd_matype": 2},
        ],
    ),
    ("ADX", [{"timeperiod": p} for p in (2, 14, 30)]),
    ("PLUS_DI", [{"timeperiod": p} for p in (1, 14, 30)]),
    ("MINUS_DI", [{"timeperiod": p} for p in (1, 14, 30)]),
    ("CCI", [{"timeperiod": p} for p in (2, 14, 20)]),
    ("WILLR", [{"timeperiod": p} for p in (2, 14)]),
]
WITH_VOLUME = [
    ("OBV", [{}]),
    ("MFI", [{"timeperiod": p} for p in (2, 14)]),
]


def read_cl(data: Path) -> dict:
    with open(data / CL_DAILY, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in ("open", "high", "low", "close")}


def read_6e(data: Path) -> dict:
    with gzip.open(data / SIX_E_MINUTES, "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    cols = ("open", "high", "low", "close", "volume")
    return {k: np.array([float(r[k]) for r in rows]) for k in cols}


def run(name: str, bars: dict, params: dict) -> dict:
    fn = getattr(talib, name)
    h, l, c = bars["high"], bars["low"], bars["close"]
    if name in ("OBV",):
        result = fn(c, bars["volume"])
    elif name in ("MFI",):
        result = fn(h, l, c, bars["volume"], **params)
    elif name in {n for n, _ in HLC}:
        result = fn(h, l, c, **params)
    else:
        result = fn(c, **params)
    names = {
        "MACD": ("macd", "macdsignal", "macdhist"),
        "BBANDS": ("upperband", "middleband", "lowerband"),
        "STOCH": ("slowk", "slowd"),
        "STOCHRSI": ("fastk", "fastd"),
    }.get(name, ("real",))
    if not isinstance(result, tuple):
        result = (result,)
    return dict(zip(names, result))


def main() -> None:
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    datasets = {"cl": read_cl(data), "6e": read_6e(data)}
    cases = []
    for dataset, bars in datasets.items():
        families = CLOSE_ONLY + HLC + (WITH_VOLUME if "volume" in bars else [])
        for name, param_sets in families:
            for params in param_sets:
                outputs = {}
                for output, series in run(name, bars, params).items():
                    file = f"{len(cases):03}_{dataset}_{name}_{output}.f64"
                    np.asarray(series, dtype="<f8").tofile(out / file)
                    outputs[output] = file
                cases.append({"dataset": dataset, "function": name, "params": params, "outputs": outputs})
    manifest = {"talib": talib.__version__, "ta_lib_c": talib.__ta_version__.decode(), "cases": cases}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
