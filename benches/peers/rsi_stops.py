"""The second side-by-side workload, one with exits: RSI(period) x stop loss, with a fixed
take-profit, through settle, vectorbt 1.2.0 and backtesting.py 0.6.6, trade by trade.

The rule (rsi_stops.json, beside this file): long when RSI(period) closes below 30; out at the
next open when it closes above 50, or inside a bar at a stop `stop_ticks` below the entry or a
take-profit 6 ticks (1.5 ES points) above it. Grid: period 2..20 x stop_ticks 10..100 step 10
= 190 combinations. Entries fill at the next bar's open.

How settle's rules are mapped onto each peer, so that every combination gives the same trades
(entry bar, exit bar, exit reason, prices on the tick grid, net P&L):

* RSI: settle's is TA-Lib's (Wilder smoothing, seeded by the mean of the first `period`
  changes); vectorbt's `RSI` is a different average, so both peers use `rsi_nb` below, the same
  arithmetic in the same order, which gives the same bits and so the same signals even where
  the RSI sits exactly on 30 or 50.
* Ties: settle's comparisons treat values within a millionth of a tick as equal
  (docs/METRICS.md), so `rsi < 30` is `30 - rsi > TIE` on both peers too: an RSI a rounding
  away from 30 is not below it.
* Next-open fills: signals are shifted one bar and filled at the open (`price=open`).
* Stops and targets as fractions (vectorbt): vectorbt's stop is `entry x (1 - sl_stop)`, so
  the fraction is given per bar as `(ticks x 0.25 - 1e-6) / open`: the level lands a millionth
  of a point inside the tick level, so a low exactly on the level touches it as in settle (an
  exact fraction can round either way), and the fill is rounded back to the tick grid.
  `stop_entry_price=FillPrice`, `stop_exit_price=StopLimit` (fill at the level, or at the open
  when the open is already through it, as settle does).
* A market exit at the open before the bar's stop and target: settle fills the exit decided
  at the previous close at the open, before any stop or target inside the bar; vectorbt checks
  its stops first and lets them override that bar's signal. On rows with an exit signal
  vectorbt is therefore shown a bar that is only its open (high = low = open): a stop or
  target can then fire only if the open is through it, at the open, the price settle's exit
  gets too. backtesting.py cancels the trade's SL and TP before closing it.
* A bar that reaches both the stop and the target: the stop, in all three (vectorbt checks
  `sl_stop` first; backtesting.py's SL is set after the TP, so it sits first in the queue).
* Costs: settle charges $2.50 commission and 1 tick ($12.50) of slippage per fill as dollars,
  without moving the fill price; both peers get `0.30` points of fixed fee per order instead
  (vectorbt's `slippage` would move the price, and is not applied to stop exits).
* End of data: settle closes the last trade at the last close ("end_of_data"); vectorbt leaves
  it open, valued at that close and without the exit's fee; backtesting.py closes it there
  (`finalize_trades=True`).
* backtesting.py skips bars until every indicator is defined (plus one), so the RSI's undefined
  head is given to it as 50, a value neither rule fires on.

Two differences cannot show on these bars, and the script checks that they do not:
settle checks stops and targets inside the entry bar itself (entered at the open, the trade sees
the whole bar), vectorbt only from the next bar; and a bar that opens beyond a level is a gap,
where settle's exit order of the open is a "signal" exit and vectorbt's a stop at the same
price. The random walk opens every bar at the previous close and moves at most 3 ticks from the
open within a bar, while the nearest level is 6 ticks away.
"""

import collections
import gc
import json
import os
import subprocess
import time

import numba
import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
STRATEGY = os.path.join(HERE, "rsi_stops.json")
PERIODS = list(range(2, 21))
STOPS = list(range(10, 101, 10))
TARGET_TICKS = 6
TICK = 0.25  # ES points per tick
TIE = TICK * 1e-6  # settle's comparisons treat values this close as equal (docs/METRICS.md)
MULTIPLIER = 50.0  # ES dollars per point
COST = (2.50 + TICK * MULTIPLIER) / MULTIPLIER  # points per fill: commission + 1 tick
NUDGE = 1e-6  # points a vectorbt level sits inside the tick level
REASONS = ("signal", "stop", "target", "end_of_data")
SETTLE_ARGS = ["--strategy", STRATEGY, "--param", "period=2:20:1", "--param",
               "stop_ticks=10:100:10"]


@numba.njit
def rsi_nb(x, period):
    """settle's RSI (strategies/src/indicators/momentum.rs, TA-Lib 0.8's operations in its
    order: sums of the first `period` gains and losses times 1/period, then Wilder smoothing
    by the reciprocal), NaN for the first `period` bars."""
    out = np.full(len(x), np.nan)
    if len(x) <= period:
        return out
    inv = 1.0 / period
    back = float(period - 1)
    gain, loss = 0.0, 0.0
    for k in range(1, period + 1):
        change = x[k] - x[k - 1]
        up = change if 0.0 < change else 0.0
        gain, loss = gain + up, loss + (up - change)
    gain, loss = gain * inv, loss * inv
    out[period] = rsi_ratio(gain, loss)
    for k in range(period + 1, len(x)):
        change = x[k] - x[k - 1]
        up = change if 0.0 < change else 0.0
        gain = (gain * back + up) * inv
        loss = ((up - change) + loss * back) * inv
        out[k] = rsi_ratio(gain, loss)
    return out


@numba.njit
def rsi_ratio(gain, loss):
    """gain / (gain + loss) x 100, 0 when there was no change at all."""
    total = loss + gain
    return gain / total * 100.0 if total > 0.0 else 0.0


def below(rsi, level):
    """settle's `lt`: below by more than its tie width, a millionth of a tick."""
    return (level - rsi) > TIE


def above(rsi, level):
    """settle's `gt`: above by more than its tie width."""
    return (rsi - level) > TIE


def combinations() -> list[tuple[int, int]]:
    """(period, stop_ticks) in settle's export order: the first --param varies slowest."""
    return [(p, s) for p in PERIODS for s in STOPS]


def check_bars(df: pd.DataFrame) -> dict:
    """The two semantic differences that cannot show on these bars: gaps and entry-bar hits."""
    o, h, lo, c = (df[k].values for k in ("open", "high", "low", "close"))
    gaps = int(np.count_nonzero(o[1:] != c[:-1]))
    reach = int(round(max(np.max(h - o), np.max(o - lo)) / TICK))
    nearest = min(TARGET_TICKS, min(STOPS))
    return {"gaps": gaps, "widest_move_from_open_ticks": reach, "nearest_level_ticks": nearest,
            "holds": gaps == 0 and reach < nearest}


def run_vectorbt(df: pd.DataFrame, max_cells: int):
    """Indicators, signals, the portfolio in column chunks of at most `max_cells` cells, then
    total profit, trade count and Sharpe ratio per combination. Returns seconds, those three,
    the trade records (their `col` made global) and the exit signals (one column per period)."""
    import vectorbt as vbt
    from vectorbt.portfolio.enums import StopEntryPrice, StopExitPrice

    start = time.perf_counter()
    o, h, lo, c = (df[k].values for k in ("open", "high", "low", "close"))
    n, stops = len(c), len(STOPS)
    rsi = np.column_stack([rsi_nb(c, p) for p in PERIODS])
    entries = np.zeros(rsi.shape, dtype=bool)
    exits = np.zeros(rsi.shape, dtype=bool)
    entries[1:], exits[1:] = below(rsi[:-1], 30), above(rsi[:-1], 50)
    # A market exit at the open goes before the bar's stop and target: show vectorbt the open only.
    high = np.where(exits, o[:, None], h[:, None])
    low = np.where(exits, o[:, None], lo[:, None])
    sl = (np.array(STOPS) * TICK - NUDGE)[None, :] / o[:, None]
    tp = ((TARGET_TICKS * TICK - NUDGE) / o)[:, None]
    per_chunk = max(1, max_cells // (n * stops))  # RSI periods per chunk
    profit, count, sharpe, records = [], [], [], []
    for first in range(0, len(PERIODS), per_chunk):
        cols = slice(first, first + per_chunk)
        width = len(PERIODS[cols]) * stops
        shape = (n, width)

        def wide(per_period: np.ndarray) -> np.ndarray:
            """The chunk's periods, one column per (period, stop) cell."""
            return np.repeat(per_period[:, cols], stops, axis=1)

        pf = vbt.Portfolio.from_signals(
            np.broadcast_to(c[:, None], shape), entries=wide(entries), exits=wide(exits),
            price=np.broadcast_to(o[:, None], shape), open=np.broadcast_to(o[:, None], shape),
            high=wide(high), low=wide(low), sl_stop=np.tile(sl, (1, width // stops)),
            tp_stop=np.broadcast_to(tp, shape), stop_entry_price=StopEntryPrice.FillPrice,
            stop_exit_price=StopExitPrice.StopLimit, fixed_fees=COST, size=1.0,
            init_cash=1e12, freq="1min")
        profit.append(pf.total_profit().values)
        count.append(pf.trades.count().values)
        sharpe.append(pf.sharpe_ratio().values)
        r = pf.trades.values.copy()
        r["col"] += first * stops
        records.append(r)
        # The portfolio holds reference cycles: free each chunk's before the next is built.
        del pf
        gc.collect()
    seconds = time.perf_counter() - start
    return (seconds, np.concatenate(profit), np.concatenate(count), np.concatenate(sharpe),
            np.concatenate(records), exits)


def exit_reasons(exit_price, bar_open, signal, entry, stop_ticks) -> np.ndarray:
    """Exit reasons of a peer's closed trades, from their prices (the peers do not record
    one): at the open of a bar with an exit signal, the signal; else at (or gapped through) the
    stop or the target level; -1 for none of these."""
    return np.select(
        [signal & (exit_price == bar_open),
         exit_price <= entry - stop_ticks * TICK + 2 * NUDGE,
         exit_price >= entry + TARGET_TICKS * TICK - 2 * NUDGE],
        [0, 1, 2], -1)


def by_combination(cols, rows) -> list:
    """Rows (entry bar, exit bar, reason, entry ticks, exit ticks, net dollars) split into one
    array per combination, each in entry order."""
    order = np.lexsort((rows[:, 0], cols))
    cols, rows = cols[order], rows[order]
    bounds = np.searchsorted(cols, np.arange(len(combinations()) + 1))
    return [rows[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def vectorbt_trades(records: np.ndarray, exits: np.ndarray, df: pd.DataFrame) -> list:
    """vectorbt's trade records per combination, in by_combination's layout; an open trade is
    read as settle's end-of-data exit, which pays the exit's costs."""
    o = df["open"].values
    col = records["col"]
    period_col, stop = np.divmod(col, len(STOPS))
    j = records["exit_idx"]
    is_open = records["status"] == 0
    reason = exit_reasons(records["exit_price"], o[j], exits[j, period_col],
                          records["entry_price"], np.array(STOPS)[stop])
    reason = np.where(is_open, 3, reason)
    net = (records["pnl"] - np.where(is_open, COST, 0.0)) * MULTIPLIER
    rows = np.column_stack([records["entry_idx"], j, reason,
                            np.round(records["entry_price"] / TICK),
                            np.round(records["exit_price"] / TICK), net])
    return by_combination(col, rows)


def settle_trades(settle: str, home: str, period: int, stop: int,
                  t0: pd.Timestamp) -> np.ndarray:
    """One combination's trades from `settle backtest --json`, in by_combination's layout;
    `t0` is the time of the first bar (one-minute bars)."""
    out = subprocess.run([settle, "--home", home, "backtest", *SETTLE_ARGS[:2], "--param",
                          f"period={period}", "--param", f"stop_ticks={stop}", "--json"],
                         check=True, capture_output=True, text=True).stdout
    t = pd.DataFrame(json.loads(out)["trades"], columns=[
        "entryTime", "exitTime", "exitReason", "entryPrice", "exitPrice", "netPnl"])
    def bar(stamps: pd.Series) -> pd.Series:
        return (pd.to_datetime(stamps) - t0) // pd.Timedelta(minutes=1)

    return np.column_stack([bar(t["entryTime"]), bar(t["exitTime"]),
                            t["exitReason"].map(REASONS.index), np.round(t["entryPrice"] / TICK),
                            np.round(t["exitPrice"] / TICK), t["netPnl"]]).astype(float)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Same trades: bars, reasons and tick prices exactly, net P&L to a tenth of a cent."""
    return a.shape == b.shape and np.array_equal(a[:, :5], b[:, :5]) and bool(
        np.all(np.abs(a[:, 5] - b[:, 5]) < 1e-3))


def run_backtesting_py(df: pd.DataFrame, cells: list[tuple[int, int]]):
    """backtesting.py on `cells`: seconds per cell and each cell's trades (vectorbt's layout)."""
    from backtesting import Backtest, Strategy

    class RsiStops(Strategy):
        """The same rule; SL and TP are set from the fill price once the trade exists."""
        period, stop_ticks = 14, 20

        def init(self):
            rsi = rsi_nb(np.asarray(self.data.Close, dtype=float), self.period)
            self.rsi = self.I(lambda: np.nan_to_num(rsi, nan=50.0))

        def next(self):
            if not self.position:
                if below(self.rsi[-1], 30):
                    self.buy(size=1)
                return
            trade = self.trades[-1]
            if trade.sl is None:  # filled at this bar's open
                trade.tp = trade.entry_price + TARGET_TICKS * TICK
                # Set last, so it is first in the order queue: a bar reaching both takes the stop.
                trade.sl = trade.entry_price - self.stop_ticks * TICK
            if above(self.rsi[-1], 50):
                trade.sl, trade.tp = None, None  # the exit at the open goes first
                self.position.close()

    data = df.rename(columns=str.capitalize).set_index(pd.to_datetime(df["time"]))
    bt = Backtest(data[["Open", "High", "Low", "Close", "Volume"]], RsiStops, cash=1e12,
                  commission=(COST, 0.0), finalize_trades=True)
    rsi_by_period = {p: rsi_nb(df["close"].values, p) for p, _ in cells}
    o, last = df["open"].values, len(df) - 1
    start = time.perf_counter()
    found = []
    for period, stop in cells:
        t = bt.run(period=period, stop_ticks=stop)["_trades"]
        e, x = t["EntryBar"].values, t["ExitBar"].values
        ep, xp = t["EntryPrice"].values, t["ExitPrice"].values
        signal = above(rsi_by_period[period][np.maximum(x - 1, 0)], 50)
        reason = exit_reasons(xp, o[x], signal, ep, stop)
        reason = np.where((x == last) & (reason == -1), 3, reason)  # finalize_trades
        found.append(np.column_stack([e, x, reason, np.round(ep / TICK), np.round(xp / TICK),
                                      t["PnL"].values * MULTIPLIER]).astype(float))
    return (time.perf_counter() - start) / len(cells), found


def spread_cells(k: int) -> list[int]:
    """k combination indices spread evenly over the grid, first and last included."""
    total = len(combinations())
    return sorted(set(np.linspace(0, total - 1, k).round().astype(int).tolist()))


def compare(settle: str, home: str, df: pd.DataFrame, export_rows: list[dict], vbt_out,
            check_cells: int, bt_cells: int) -> tuple[bool, list[str], list]:
    """Checks settle against vectorbt (and backtesting.py on `bt_cells` cells): every
    combination's trade count and net P&L from the sweep's export, and `check_cells`
    combinations (all when 0) trade by trade. Returns (all same, report lines, timing rows)."""
    _, profit, count, _, records, exits = vbt_out
    combos = combinations()
    lines = []
    bars = check_bars(df)
    lines.append(f"differences that cannot show here: {bars}")
    s_count = np.array([int(r["tradeCount"]) for r in export_rows])
    s_pnl = np.array([float(r["totalPnl"]) for r in export_rows])
    v_trades = vectorbt_trades(records, exits, df)
    open_at_end = np.array([np.count_nonzero(t[:, 2] == 3) for t in v_trades])
    v_pnl = profit * MULTIPLIER - open_at_end * COST * MULTIPLIER
    same_counts = np.array_equal(s_count, count)
    pnl_diff = np.abs(s_pnl - v_pnl)
    # Each of vectorbt's stop and target fills is NUDGE points off the tick: $0.00005 a trade.
    same_pnl = bool(np.all(pnl_diff <= 2 * NUDGE * MULTIPLIER * count + 1e-9 * np.abs(s_pnl)))
    lines.append(f"same trade counts in every combination: {same_counts} (settle "
                 f"{s_count.sum():,} trades, vectorbt {int(count.sum()):,}); largest net P&L "
                 f"difference ${pnl_diff.max():.6f}")
    t0 = pd.Timestamp(df["time"].iloc[0], tz="UTC")
    picked = range(len(combos)) if check_cells == 0 else spread_cells(check_cells)
    settle_by_cell = {k: settle_trades(settle, home, *combos[k], t0) for k in picked}
    mismatched = [k for k, s in settle_by_cell.items() if not same(s, v_trades[k])]
    trades_checked = sum(len(s) for s in settle_by_cell.values())
    reasons = collections.Counter(REASONS[int(r)] for s in settle_by_cell.values() for r in s[:, 2])
    lines.append(f"trade by trade (entry bar, exit bar, reason, tick prices, net P&L), "
                 f"{len(picked)} combinations, {trades_checked:,} trades, exits "
                 f"{dict(reasons)}: {'all identical' if not mismatched else 'DIFFER'}"
                 + (f" at {[combos[k] for k in mismatched[:5]]}" if mismatched else ""))
    ok = bars["holds"] and same_counts and same_pnl and not mismatched
    timing = []
    if bt_cells > 0:
        cells = spread_cells(bt_cells)
        per, found = run_backtesting_py(df, [combos[k] for k in cells])
        for k, t in zip(cells, found):
            s = settle_by_cell.get(k)
            match = same(settle_trades(settle, home, *combos[k], t0) if s is None else s, t)
            ok = ok and match
            lines.append(f"backtesting.py {combos[k]}: {len(t)} trades, "
                         f"{'identical to settle' if match else 'DIFFERENT from settle'}")
        timing.append((f"backtesting.py 0.6.6 (x{len(combos)} from {len(cells)} cells)",
                       per * len(combos)))
    return ok, lines, timing
