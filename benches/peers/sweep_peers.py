"""Side-by-side sweeps: settle vs vectorbt 1.2.0 (and backtesting.py 0.6.6 on a few cells), two
workloads on the same bars, in one run. Called by scripts/bench-vs-peers.sh.

1. SMA cross (below): always in the market, no stops.
2. RSI x stop loss with a take-profit (rsi_stops.py): exits by signal, stop, target and end of
   data, checked trade by trade.

The bars are a deterministic random walk on the ES tick grid (xorshift64, the generator of
benches/sweep.rs), written once to a CSV that every side reads. The grid is the sma_cross
template's: fast 5..50 step 5 x slow 60..240 step 20 = 100 combinations, long on a fast-over-
slow cross, short on the reverse, always in the market, filled at the next bar's open.

Same trades: settle nets 1 tick of slippage and $2.50 a side; vectorbt runs with no costs at
the next open, so settle's gross P&L (totalPnl + totalCommission + totalSlippage) must equal
vectorbt's total profit x the $50 ES multiplier, and the trade counts must match, for every
combination. Timing: settle's in-process sweep time (its own report) and the whole process,
each the median of five runs after an untimed one (every run must export the same bytes);
vectorbt's indicators + portfolio + metrics, cold (numba compiling) and warm (its second run). vectorbt runs in
chunks of columns of at most --vbt-max-cells cells, so a million bars fit in memory.
"""

import argparse
import csv
import gc
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

import rsi_stops

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


def import_bars(settle: str, home: str, data: str) -> None:
    """The bars CSV into a fresh settle store at `home`, as ES one-minute bars."""
    subprocess.run([settle, "--home", home, "data", "import", data, "--symbol", "ES", "--bar", "1m",
                    "--time-col", "time", "--tz", "UTC"], check=True, capture_output=True)


def run_settle(settle: str, home: str, sweep: list[str], export: str, runs: int = 5):
    """`settle sweep` (no guards) as its own process, once untimed (as vectorbt's warm run
    follows a first one) then `runs` times: (median in-process seconds, median whole-process
    seconds, the exported rows). Every run must export the same bytes."""
    inner, process, exported = [], [], set()
    for k in range(runs + 1):
        start = time.perf_counter()
        out = subprocess.run([settle, "--home", home, "sweep", *sweep, "--no-guards", "--export",
                              export], check=True, capture_output=True, text=True).stdout
        seconds = time.perf_counter() - start
        with open(export, "rb") as f:
            exported.add(f.read())
        if k == 0:
            continue
        process.append(seconds)
        # "sma_cross ES 1m: 100 combinations in 0.0512 s (...)"; --no-guards: the sweep alone
        inner.append(float(out.split(" combinations in ")[1].split(" s ")[0]))
    assert len(exported) == 1, "settle exported different bytes from one run to the next"
    with open(export) as f:
        return float(np.median(inner)), float(np.median(process)), list(csv.DictReader(f))


def crossed(a: np.ndarray, b: np.ndarray, above: bool) -> np.ndarray:
    """a crosses b at t: a > b now and a <= b one bar before (NaN compares false)."""
    now = a > b if above else a < b
    before = a <= b if above else a >= b
    out = np.zeros_like(now)
    out[1:] = now[1:] & before[:-1]
    return out


def run_vectorbt(df: pd.DataFrame, max_cells: int):
    """The SMA grid through vectorbt, fast values in chunks of at most `max_cells` cells."""
    import vectorbt as vbt

    start = time.perf_counter()
    close = df["close"]
    per_chunk = max(1, max_cells // (len(close) * len(SLOWS)))  # fast values per chunk
    profit, trades, sharpe = [], [], []
    for first in range(0, len(FASTS), per_chunk):
        fasts = FASTS[first:first + per_chunk]
        fw = np.repeat(fasts, len(SLOWS))
        sw = np.tile(SLOWS, len(fasts))
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
        profit.append(pf.total_profit().values)
        trades.append(pf.trades.count().values)
        sharpe.append(pf.sharpe_ratio().values)
        # The portfolio holds reference cycles: free each chunk's before the next is built.
        del pf
        gc.collect()
    return (time.perf_counter() - start, np.concatenate(profit), np.concatenate(trades),
            np.concatenate(sharpe))


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


def print_table(evals: int, table: list[tuple[str, float]]) -> None:
    """Wall seconds, bar-evaluations per second and the ratio to settle's in-process time (the
    first row)."""
    print(f"{'':50} {'wall s':>10} {'bar-evals/s':>12} {'vs settle':>10}")
    for name, secs in table:
        print(f"{name:50} {secs:10.3f} {evals / secs:12.3e} {secs / table[0][1]:9.1f}x")


def settle_rows(inner: float, process: float) -> list[tuple[str, float]]:
    """settle's two timing rows."""
    return [("settle (sweep, in process)", inner),
            ("settle (whole process: load + sweep + export)", process)]


def vectorbt_rows(cold: float, warm: float) -> list[tuple[str, float]]:
    """vectorbt's two timing rows."""
    return [("vectorbt 1.2.0 (cold: numba compiling)", cold), ("vectorbt 1.2.0 (warm)", warm)]


def sma_cross(a, df: pd.DataFrame, home: str, work: str) -> tuple[bool, dict]:
    """Workload 1: the SMA-cross grid; same trade counts and gross P&L in every combination."""
    n, combos = len(df), len(FASTS) * len(SLOWS)
    evals = n * combos
    settle_inner, settle_process, rows = run_settle(
        a.settle, home, ["--template", "sma_cross", "--symbol", "ES", "--bar", "1m", "--window",
                         "all", "--param", "fast=5:50:5", "--param", "slow=60:240:20"],
        os.path.join(work, "sma.csv"))
    s_trades = np.array([int(r["tradeCount"]) for r in rows])
    s_gross = np.array([float(r["totalPnl"]) + float(r["totalCommission"])
                        + float(r["totalSlippage"]) for r in rows])

    vbt_cold, profit, v_trades, _ = run_vectorbt(df, a.vbt_max_cells)
    vbt_warm, profit2, _, _ = run_vectorbt(df, a.vbt_max_cells)
    assert np.array_equal(profit, profit2)
    v_gross = profit * MULTIPLIER

    same_trades = np.array_equal(s_trades, v_trades)
    pnl_diff = np.max(np.abs(s_gross - v_gross))
    print(f"== SMA cross: bars {n:,} x {combos} combinations = {evals:,} bar-evaluations")
    print(f"same trade counts in every combination: {same_trades} "
          f"(settle {s_trades.sum():,} trades, vectorbt {int(v_trades.sum()):,})")
    print(f"largest gross P&L difference: ${pnl_diff:.6f} (settle gross = totalPnl + costs)")
    if not same_trades:
        bad = np.nonzero(s_trades != v_trades)[0]
        print(f"  trade counts differ at combinations {bad[:10].tolist()}: settle "
              f"{s_trades[bad[:10]].tolist()} vectorbt {v_trades[bad[:10]].tolist()}")

    table = settle_rows(settle_inner, settle_process) + vectorbt_rows(vbt_cold, vbt_warm)
    if a.backtesting_cells > 0:
        per = run_backtesting_py(df, a.backtesting_cells)
        table.append((f"backtesting.py 0.6.6 (x{combos} from {a.backtesting_cells} cells)",
                      per * combos))
    print_table(evals, table)
    ok = same_trades and pnl_diff < 1e-6 * max(1.0, np.abs(s_gross).max())
    return ok, {"workload": "sma_cross", "bars": n, "combinations": combos,
                "same_trades": bool(same_trades), "max_gross_pnl_diff": float(pnl_diff),
                "seconds": dict(table)}


def rsi_stop_loss(a, df: pd.DataFrame, home: str, work: str) -> tuple[bool, dict]:
    """Workload 2: the RSI x stop-loss grid with a take-profit (rsi_stops.py), trade by trade."""
    n, combos = len(df), len(rsi_stops.combinations())
    evals = n * combos
    settle_inner, settle_process, rows = run_settle(
        a.settle, home, rsi_stops.SETTLE_ARGS, os.path.join(work, "rsi.csv"))
    cold = rsi_stops.run_vectorbt(df, a.vbt_max_cells)
    warm = rsi_stops.run_vectorbt(df, a.vbt_max_cells)
    assert np.array_equal(cold[1], warm[1])
    print(f"== RSI x stop loss, 6-tick target: bars {n:,} x {combos} combinations = "
          f"{evals:,} bar-evaluations")
    ok, lines, peers = rsi_stops.compare(a.settle, home, df, rows, warm, a.rsi_check_cells,
                                         a.rsi_backtesting_cells)
    print("\n".join(lines))
    table = settle_rows(settle_inner, settle_process) + vectorbt_rows(cold[0], warm[0]) + peers
    print_table(evals, table)
    return ok, {"workload": "rsi_stop_loss", "bars": n, "combinations": combos,
                "same_trades": ok, "checks": lines, "seconds": dict(table)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settle", required=True, help="the release settle binary")
    ap.add_argument("--bars", type=int, default=100_000)
    ap.add_argument("--backtesting-cells", type=int, default=2,
                    help="SMA combinations run with backtesting.py (0 to skip); too slow for all")
    ap.add_argument("--rsi-backtesting-cells", type=int, default=3,
                    help="RSI combinations run with backtesting.py and checked trade by trade")
    ap.add_argument("--rsi-check-cells", type=int, default=0,
                    help="RSI combinations checked trade by trade against vectorbt (0: all)")
    ap.add_argument("--vbt-max-cells", type=int, default=20_000_000,
                    help="bars x columns of one vectorbt chunk (memory)")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="settle-peers-")
    data = os.path.join(work, "bars.csv")
    random_walk(a.bars).to_csv(data, index=False)
    df = pd.read_csv(data)  # every side reads the same file
    home = os.path.join(work, "home")
    import_bars(a.settle, home, data)
    results = [sma_cross(a, df, home, work), rsi_stop_loss(a, df, home, work)]
    print(json.dumps([summary for _, summary in results]))
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
