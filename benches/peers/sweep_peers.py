"""Side-by-side sweep: settle vs vectorbt 1.2.0 (and backtesting.py 0.6.6 on a few cells), the
same SMA-cross grid on the same bars, in one run. Called by scripts/bench-vs-peers.sh.

The bars are a deterministic random walk on the ES tick grid (xorshift64, the generator of
benches/sweep.rs), written once to a CSV that every side reads. The grid is the sma_cross
template's: fast 5..50 step 5 x slow 60..240 step 20 = 100 combinations, long on a fast-over-
slow cross, short on the reverse, always in the market, filled at the next bar's open.

Same trades: settle nets 1 tick of slippage and $2.50 a side; vectorbt runs with no costs at
the next open, so settle's gross P&L (totalPnl + totalCommission + totalSlippage) must equal
vectorbt's total profit x the $50 ES multiplier, and the trade counts must match, for every
combination. Timing: settle's in-process sweep time (its own report) and the whole process;
vectorbt's indicators + portfolio + metrics, cold (numba compiling) and warm.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

FASTS = list(range(5, 51, 5))
SLOWS = list(range(60, 241, 20))
MULTIPLIER = 50.0  # ES dollars per index point


def random_walk(n: int) -> pd.DataFrame:
    """settle_data::synthetic::random_walk (the bars of benches/sweep.rs): xorshift64 steps of -2..2 ticks from 4800."""
    mask = (1 << 64) - 1
    x, price = 0x9E3779B97F4A7C15, 4800.0
    o, h, lo, c = (np.empty(n) for _ in range(4))
    for i in range(n):
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        step = (x % 5) - 2.0
        o[i] = price
        price += step * 0.25
        h[i] = max(o[i], price) + 0.25
        lo[i] = min(o[i], price) - 0.25
        c[i] = price
    t = pd.to_datetime(1_704_146_400 + 60 * np.arange(n), unit="s")
    return pd.DataFrame({"time": t.strftime("%Y-%m-%d %H:%M:%S"), "open": o, "high": h,
                         "low": lo, "close": c, "volume": 1.0})


def run_settle(settle: str, home: str, data: str, export: str) -> tuple[float, float]:
    subprocess.run([settle, "--home", home, "data", "import", data, "--symbol", "ES", "--bar", "1m",
                    "--time-col", "time", "--tz", "UTC"], check=True, capture_output=True)
    start = time.perf_counter()
    out = subprocess.run([settle, "--home", home, "sweep", "--template", "sma_cross", "--symbol", "ES",
                          "--bar", "1m", "--window", "all", "--param", "fast=5:50:5",
                          "--param", "slow=60:240:20", "--no-guards", "--export", export],
                         check=True, capture_output=True, text=True).stdout
    process = time.perf_counter() - start
    # "sma_cross ES 1m: 100 combinations in 0.0512 s (...)"; --no-guards: the sweep alone
    inner = float(out.split(" combinations in ")[1].split(" s ")[0])
    return inner, process


def crossed(a: np.ndarray, b: np.ndarray, above: bool) -> np.ndarray:
    """a crosses b at t: a > b now and a <= b one bar before (NaN compares false)."""
    now = a > b if above else a < b
    before = a <= b if above else a >= b
    out = np.zeros_like(now)
    out[1:] = now[1:] & before[:-1]
    return out


def run_vectorbt(df: pd.DataFrame):
    import vectorbt as vbt

    start = time.perf_counter()
    close = df["close"]
    fw = np.repeat(FASTS, len(SLOWS))
    sw = np.tile(SLOWS, len(FASTS))
    fast = vbt.MA.run(close, window=list(fw)).ma.values
    slow = vbt.MA.run(close, window=list(sw)).ma.values
    longs, shorts = crossed(fast, slow, True), crossed(fast, slow, False)
    # A signal on bar t's close fills at bar t+1's open, as in settle.
    entries = np.zeros_like(longs)
    short_entries = np.zeros_like(shorts)
    entries[1:], short_entries[1:] = longs[:-1], shorts[:-1]
    price = np.broadcast_to(df["open"].values[:, None], entries.shape)
    pf = vbt.Portfolio.from_signals(
        np.broadcast_to(close.values[:, None], entries.shape), entries=entries,
        short_entries=short_entries, price=price, size=1.0, init_cash=1e12,
        upon_opposite_entry="Reverse", freq="1min")
    profit = pf.total_profit().values
    trades = pf.trades.count().values
    sharpe = pf.sharpe_ratio().values
    return time.perf_counter() - start, profit, trades, sharpe


def run_backtesting_py(df: pd.DataFrame, cells: int) -> float:
    """backtesting.py on the first `cells` combinations, seconds per combination."""
    from backtesting import Backtest, Strategy

    class SmaCross(Strategy):
        fast, slow = 5, 60

        def init(self):
            c = pd.Series(self.data.Close)
            self.f = self.I(lambda: c.rolling(self.fast).mean().values)
            self.s = self.I(lambda: c.rolling(self.slow).mean().values)

        def next(self):
            f, s = self.f, self.s
            if f[-1] > s[-1] and f[-2] <= s[-2]:
                self.position.close()
                self.buy(size=1)
            elif f[-1] < s[-1] and f[-2] >= s[-2]:
                self.position.close()
                self.sell(size=1)

    data = df.rename(columns=str.capitalize).set_index(pd.to_datetime(df["time"]))
    bt = Backtest(data[["Open", "High", "Low", "Close", "Volume"]], SmaCross, cash=1e12,
                  commission=0.0, finalize_trades=True)
    start = time.perf_counter()
    for k in range(cells):
        bt.run(fast=FASTS[k // len(SLOWS)], slow=SLOWS[k % len(SLOWS)])
    return (time.perf_counter() - start) / cells


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settle", required=True, help="the release settle binary")
    ap.add_argument("--bars", type=int, default=100_000)
    ap.add_argument("--backtesting-cells", type=int, default=2,
                    help="combinations run with backtesting.py (0 to skip); it is too slow for all")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="settle-peers-")
    data = os.path.join(work, "bars.csv")
    df = random_walk(a.bars)
    df.to_csv(data, index=False)
    df = pd.read_csv(data)  # every side reads the same file
    n, combos = a.bars, len(FASTS) * len(SLOWS)
    evals = n * combos

    settle_inner, settle_process = run_settle(a.settle, os.path.join(work, "home"), data,
                                              os.path.join(work, "settle.csv"))
    with open(os.path.join(work, "settle.csv")) as f:
        rows = list(csv.DictReader(f))
    s_trades = np.array([int(r["tradeCount"]) for r in rows])
    s_gross = np.array([float(r["totalPnl"]) + float(r["totalCommission"])
                        + float(r["totalSlippage"]) for r in rows])

    vbt_cold, profit, v_trades, _ = run_vectorbt(df)
    vbt_warm, profit2, _, _ = run_vectorbt(df)
    assert np.array_equal(profit, profit2)
    v_gross = profit * MULTIPLIER

    same_trades = np.array_equal(s_trades, v_trades)
    pnl_diff = np.max(np.abs(s_gross - v_gross))
    print(f"bars {n:,} x {combos} combinations = {evals:,} bar-evaluations")
    print(f"same trade counts in every combination: {same_trades} "
          f"(settle {s_trades.sum():,} trades, vectorbt {int(v_trades.sum()):,})")
    print(f"largest gross P&L difference: ${pnl_diff:.6f} (settle gross = totalPnl + costs)")
    if not same_trades:
        bad = np.nonzero(s_trades != v_trades)[0]
        print(f"  trade counts differ at combinations {bad[:10].tolist()}: settle "
              f"{s_trades[bad[:10]].tolist()} vectorbt {v_trades[bad[:10]].tolist()}")

    table = [("settle (sweep, in process)", settle_inner),
             ("settle (whole process: load + sweep + export)", settle_process),
             ("vectorbt 1.2.0 (cold: numba compiling)", vbt_cold),
             ("vectorbt 1.2.0 (warm)", vbt_warm)]
    if a.backtesting_cells > 0:
        per = run_backtesting_py(df, a.backtesting_cells)
        table.append((f"backtesting.py 0.6.6 (x{combos} from {a.backtesting_cells} cells)",
                      per * combos))
    print(f"{'':50} {'wall s':>10} {'bar-evals/s':>12} {'vs settle':>10}")
    for name, secs in table:
        print(f"{name:50} {secs:10.3f} {evals / secs:12.3e} {secs / settle_inner:9.1f}x")
    print(json.dumps({"bars": n, "combinations": combos, "same_trades": bool(same_trades),
                      "max_gross_pnl_diff": float(pnl_diff),
                      "seconds": {k: v for k, v in table}}))
    return 0 if same_trades and pnl_diff < 1e-6 * max(1.0, np.abs(s_gross).max()) else 1


if __name__ == "__main__":
    sys.exit(main())
