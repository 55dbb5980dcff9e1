"""TA-Lib C beside settle's indicator benchmark, on the same 1,000,000 bars.

Rebuilds the random walk of benches/indicators.rs value for value (the same xorshift64 stream
and the same floating-point operations, so the bars are bit-identical), times the TA-Lib
function each criterion bench corresponds to (median of --calls calls after a warm-up, output
allocation included, as settle's benches include theirs), reads settle's medians from
criterion's estimates.json files, and prints one table: indicator, settle median, TA-Lib
median, ratio (settle / TA-Lib; below 1 means settle is faster).

Keltner channels are not in TA-Lib: its peer is TA-Lib's EMA of the typical price plus ATR,
composed in numpy the way settle defines the channel. Session VWAP has no peer.

Usage: python indicators_talib.py CRITERION_DIR [--calls N]
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import talib

BARS = 1_000_000


def random_walk() -> dict:
    """benches/indicators.rs's `random_walk`, operation for operation."""
    state = 0x9E3779B97F4A7C15
    mask = (1 << 64) - 1
    scale = float(1 << 53)

    def unit() -> float:
        nonlocal state
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        return float(state >> 11) / scale

    high, low, close, volume = [], [], [], []
    price = 100.0
    for _ in range(BARS):
        open_ = price
        price += (unit() - 0.5) * 0.2
        high.append(max(open_, price) + unit() * 0.05)
        low.append(min(open_, price) - unit() * 0.05)
        close.append(price)
        volume.append(float(int(unit() * 1000.0)) + 1.0)
    return {k: np.array(v) for k, v in (("h", high), ("l", low), ("c", close), ("v", volume))}


def keltner(h, l, c, ema_period, atr_period, mult):
    middle = talib.EMA((h + l + c) / 3.0, ema_period)
    width = mult * talib.ATR(h, l, c, atr_period)
    return middle + width, middle, middle - width


def peers(b: dict) -> dict:
    """Criterion bench id -> the TA-Lib call it is compared with (None: no counterpart)."""
    h, l, c, v = b["h"], b["l"], b["c"], b["v"]
    return {
        "ma/sma/20": lambda: talib.SMA(c, 20),
        "ma/ema/20": lambda: talib.EMA(c, 20),
        "ma/wma/20": lambda: talib.WMA(c, 20),
        "ma/dema/20": lambda: talib.DEMA(c, 20),
        "ma/tema/20": lambda: talib.TEMA(c, 20),
        "ma/kama/20": lambda: talib.KAMA(c, 20),
        "momentum/rsi_14": lambda: talib.RSI(c, 14),
        "momentum/macd_12_26_9": lambda: talib.MACD(c, 12, 26, 9),
        "momentum/stoch_5_3_3": lambda: talib.STOCH(h, l, c, 5, 3, 0, 3, 0),
        "momentum/stochrsi_14_5_3": lambda: talib.STOCHRSI(c, 14, 5, 3, 0),
        "momentum/cci_20": lambda: talib.CCI(h, l, c, 20),
        "momentum/roc_10": lambda: talib.ROC(c, 10),
        "momentum/mom_10": lambda: talib.MOM(c, 10),
        "momentum/willr_14": lambda: talib.WILLR(h, l, c, 14),
        "volatility/trange": lambda: talib.TRANGE(h, l, c),
        "volatility/atr_14": lambda: talib.ATR(h, l, c, 14),
        "volatility/natr_14": lambda: talib.NATR(h, l, c, 14),
        "volatility/bbands_20_2": lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0),
        "volatility/keltner_20_10_2": lambda: keltner(h, l, c, 20, 10, 2.0),
        "trend/adx_14": lambda: talib.ADX(h, l, c, 14),
        "trend/plus_di_14": lambda: talib.PLUS_DI(h, l, c, 14),
        "trend/minus_di_14": lambda: talib.MINUS_DI(h, l, c, 14),
        "volume/obv": lambda: talib.OBV(c, v),
        "volume/mfi_14": lambda: talib.MFI(h, l, c, v, 14),
        "volume/vwap_session": None,
        "stats/max_20": lambda: talib.MAX(c, 20),
        "stats/min_20": lambda: talib.MIN(c, 20),
        "stats/stddev_20": lambda: talib.STDDEV(c, 20, 1.0),
        "stats/linearreg_slope_14": lambda: talib.LINEARREG_SLOPE(c, 14),
    }


def median_ms(fn, calls: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def settle_medians(criterion: Path) -> dict:
    """Bench id -> criterion's median estimate in ms, from the latest run."""
    medians = {}
    for estimates in criterion.glob("**/new/estimates.json"):
        bench = json.loads((estimates.parent / "benchmark.json").read_text())
        median_ns = json.loads(estimates.read_text())["median"]["point_estimate"]
        medians[bench["full_id"]] = median_ns / 1e6
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("criterion", type=Path, help="criterion's output directory")
    parser.add_argument("--calls", type=int, default=21, help="timed TA-Lib calls per function")
    args = parser.parse_args()
    settle = settle_medians(args.criterion)
    bars = random_walk()
    print(f"TA-Lib {talib.__version__} (C {talib.__ta_version__.decode()}), {BARS:,} bars")
    print(f"| indicator | settle median (ms) | TA-Lib median (ms) | ratio |")
    print(f"|---|---:|---:|---:|")
    for bench, peer in peers(bars).items():
        ours = settle.get(bench)
        theirs = median_ms(peer, args.calls) if peer else None
        cells = [
            f"`{bench}`",
            f"{ours:.2f}" if ours is not None else "not run",
            f"{theirs:.2f}" if theirs is not None else "no peer",
            f"{ours / theirs:.2f}" if ours is not None and theirs is not None else "—",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
