"""Independent peer for settle's engine: replays the same signals through backtesting.py 0.6.6.

Usage: python backtesting_py_peer.py BARS.csv PARAMS.json

BARS.csv columns: ts (UTC epoch seconds), open, high, low, close, and the 0/1 signal columns
long_entry, long_exit, short_entry, short_exit (decided on that bar's close).

PARAMS.json: multiplier, tick_value, commission_per_side, slippage_ticks, reverse (bool),
trade_on_close (bool), sl_points / tp_points (null = none).

Mapping of settle's rules onto backtesting.py:
* prices are multiplied by the contract multiplier, so one unit = one contract and P&L is dollars;
* settle's per-fill costs (commission + slippage ticks x tick value) go through the commission
  callable, which backtesting.py charges on entry and on exit;
* `trade_on_close=True` is settle's `signalClose` fill; otherwise fills are at the next open;
* stop loss / take profit are absolute prices `entry -/+ distance`; with `trade_on_close` the
  entry price is the signal bar's close, so the levels are known when the order is placed;
* a reversal is `position.close()` then an order the other way, both filled at the same price;
* trades still open at the end are reported with `"open": true` (settle closes them itself).

Prints a JSON list of trades: entry_ts, exit_ts, entry_price, exit_price (in price points), size,
net_pnl (dollars), open.
"""
import json
import sys
import warnings

import pandas as pd
from backtesting import Backtest, Strategy


def main(csv_path, params_path):
    p = json.load(open(params_path))
    raw = pd.read_csv(csv_path)
    m = p["multiplier"]
    df = pd.DataFrame(
        {
            "Open": raw["open"].to_numpy() * m,
            "High": raw["high"].to_numpy() * m,
            "Low": raw["low"].to_numpy() * m,
            "Close": raw["close"].to_numpy() * m,
            "Volume": 1.0,
            "long_entry": raw["long_entry"].to_numpy(),
            "long_exit": raw["long_exit"].to_numpy(),
            "short_entry": raw["short_entry"].to_numpy(),
            "short_exit": raw["short_exit"].to_numpy(),
        },
        index=pd.to_datetime(raw["ts"].to_numpy(), unit="s"),
    )
    per_fill = p["commission_per_side"] + p["slippage_ticks"] * p["tick_value"]
    sl = p.get("sl_points")
    tp = p.get("tp_points")
    reverse = p["reverse"]

    class Replay(Strategy):
        def init(self):
            pass

        def enter(self, long):
            price = self.data.Close[-1]
            kw = {}
            if sl is not None:
                kw["sl"] = price - sl * m if long else price + sl * m
            if tp is not None:
                kw["tp"] = price + tp * m if long else price - tp * m
            (self.buy if long else self.sell)(size=1, **kw)

        def next(self):
            le, lx = bool(self.data.long_entry[-1]), bool(self.data.long_exit[-1])
            se, sx = bool(self.data.short_entry[-1]), bool(self.data.short_exit[-1])
            pos = self.position
            if not pos:
                if le != se:
                    self.enter(le)
                return
            same, opposite, own_exit = (le, se, lx) if pos.is_long else (se, le, sx)
            if reverse and opposite and not same:
                pos.close()
                self.enter(not pos.is_long)
            elif own_exit:
                pos.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(
            df,
            Replay,
            cash=1e12,
            commission=lambda size, price: abs(size) * per_fill,
            trade_on_close=p["trade_on_close"],
            exclusive_orders=False,
            finalize_trades=False,
        )
        stats = bt.run()

    def ts(t):
        return int(pd.Timestamp(t).timestamp())

    out = []
    for _, t in stats["_trades"].iterrows():
        out.append(
            {
                "entry_ts": ts(t["EntryTime"]),
                "exit_ts": ts(t["ExitTime"]),
                "entry_price": t["EntryPrice"] / m,
                "exit_price": t["ExitPrice"] / m,
                "size": int(t["Size"]),
                "net_pnl": float(t["PnL"]),
                "open": False,
            }
        )
    for t in stats["_strategy"].trades:
        out.append(
            {
                "entry_ts": ts(t.entry_time),
                "exit_ts": None,
                "entry_price": t.entry_price / m,
                "exit_price": None,
                "size": int(t.size),
                "net_pnl": None,
                "open": True,
            }
        )
    out.sort(key=lambda r: r["entry_ts"])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
