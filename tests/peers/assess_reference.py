"""Independent reference for the robustness statistics of `settle assess` (docs/METRICS.md,
"Robustness verdict"), written from that section with the standard library and numpy (no code
shared with the Rust crate): P&L by calendar year and by thirds of the window, the share of the
P&L made on the best 5% of days, the longest losing streak, the bootstrap of the maximum
drawdown and the null test of the same trades placed at random times.

Input (JSON file, argv[1]):
  {"capital": c, "dates": ["YYYY-MM-DD", ...], "equity": [...same length as dates],
   "trades": [{"net", "bars_held", "side" (+1/-1), "contracts", "cost"}, ...in entry order],
   "opens": [...], "closes": [...] (the window's n bars), "point_value": pv,
   "bootstrap": {"resamples": R, "seed": u64}, "null": {"runs": S, "seed": u64}}
  where a trade's cost is its commission plus slippage in dollars.
Output (stdout, JSON):
  years      [[year, pnl], ...] ascending;
  thirds     [p0, p1, p2];
  best_days  {"days": m, "share": share or null};
  streak     {"trades": k, "dollars": d} (0 and 0.0 without a losing trade);
  bootstrap  {"median", "p95", "resamples"} of the resampled maximum drawdowns;
  null       {"p_value", "beats", "runs", "median_total", "actual_total"}, or null when the
             trades hold more bars than the window has (F = n - H < 0).

Conventions (the ones settle documents in docs/METRICS.md):
  SplitMix64 with u64 wrapping arithmetic, draw(n) = next() % n; each statistic has its own
  stream: the bootstrap's seeded with bootstrap.seed, the null test's with null.seed, its runs
  following each other in that stream. Seeded with 0 the stream starts
      0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F
  (`SplitMix64(0).next()` is 0xE220A8397B1DCDAF).
  Daily P&L d_i = equity_i - equity_{i-1}, equity_{-1} = capital. Sums are plain left-to-right
  float sums in date order (trade order, placement order), never pairwise.
  Third k = days floor(k*n/3) .. floor((k+1)*n/3) - 1. Best days m = ceil(0.05*n), at least 1,
  summed in descending order; share = that sum / total P&L, undefined when total <= 0.
  Streak: longest run of trades with net < 0, the first on ties; its dollars summed in order.
  Bootstrap: R resamples of N trades (index = draw(N)), equity from the capital, peak starting at
  the capital, max drawdown = max(peak - equity); quantiles by nearest rank sorted[ceil(q*R)-1],
  the ceiling taken in integers.
  Null: per run, Fisher-Yates (i = N-1 down to 1, j = draw(i+1), swap), then N cut points
  u_k = draw(F+1) sorted, gaps g_0 = u_(0), g_k = u_(k) - u_(k-1) before each trade in shuffled
  order; a trade placed at bar e earns side * (close[e+h-1] - open[e]) * pv * contracts - cost.
  p = (1 + #{runs with total >= actual}) / (1 + S); median_total = sorted totals[ceil(S/2) - 1].

Usage: python assess_reference.py INPUT.json
"""

import json
import sys

MASK = 0xFFFFFFFFFFFFFFFF
GAMMA = 0x9E3779B97F4A7C15
MUL1 = 0xBF58476D1CE4E5B9
MUL2 = 0x94D049BB133111EB


class SplitMix64:
    """Steele, Lea & Flood (2014) SplitMix64, as in docs/METRICS.md."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + GAMMA) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * MUL1) & MASK
        z = ((z ^ (z >> 27)) * MUL2) & MASK
        return z ^ (z >> 31)

    def draw(self, n):
        return self.next() % n


def nearest_rank(sorted_values, q_num, q_den):
    """sorted_values[ceil(q*len) - 1] for q = q_num / q_den, the ceiling taken in integers."""
    r = len(sorted_values)
    if r == 0:
        return None
    rank = (q_num * r + q_den - 1) // q_den
    return sorted_values[max(rank, 1) - 1]


def daily_pnl(capital, equity):
    out = []
    prev = capital
    for e in equity:
        out.append(e - prev)
        prev = e
    return out


def by_year(dates, d):
    sums = {}
    for date, x in zip(dates, d):
        y = int(date[:4])
        sums[y] = sums.get(y, 0.0) + x
    return [[y, sums[y]] for y in sorted(sums)]


def thirds(d):
    n = len(d)
    out = []
    for k in range(3):
        s = 0.0
        for i in range(k * n // 3, (k + 1) * n // 3):
            s += d[i]
        out.append(s)
    return out


def best_days(d):
    n = len(d)
    m = max((5 * n + 99) // 100, 1)
    total = 0.0
    for x in d:
        total += x
    best = 0.0
    for x in sorted(d, reverse=True)[:m]:
        best += x
    return {"days": m, "share": best / total if total > 0 else None}


def streak(nets):
    best_len, best_start = 0, 0
    run_len, run_start = 0, 0
    for i, x in enumerate(nets):
        if x < 0:
            if run_len == 0:
                run_start = i
            run_len += 1
            if run_len > best_len:  # strictly longer: the first run wins ties
                best_len, best_start = run_len, run_start
        else:
            run_len = 0
    dollars = 0.0
    for x in nets[best_start:best_start + best_len]:
        dollars += x
    return {"trades": best_len, "dollars": dollars}


def bootstrap(capital, nets, resamples, seed):
    rng = SplitMix64(seed)
    draw = rng.draw
    n = len(nets)
    dds = []
    for _ in range(resamples):
        equity = capital
        peak = capital
        dd = 0.0
        for _ in range(n):
            equity += nets[draw(n)]
            if equity > peak:
                peak = equity
            if peak - equity > dd:
                dd = peak - equity
        dds.append(dd)
    dds.sort()
    return {"median": nearest_rank(dds, 1, 2), "p95": nearest_rank(dds, 95, 100), "resamples": resamples}


def null_test(trades, opens, closes, point_value, runs, seed):
    n_bars = len(opens)
    held = [int(t["bars_held"]) for t in trades]
    free = n_bars - sum(held)
    if free < 0:
        return None
    sides = [t["side"] for t in trades]
    contracts = [t["contracts"] for t in trades]
    costs = [t["cost"] for t in trades]
    actual = 0.0
    for t in trades:
        actual += t["net"]

    rng = SplitMix64(seed)
    draw = rng.draw
    n = len(trades)
    totals = []
    beats = 0
    for _ in range(runs):
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = draw(i + 1)
            order[i], order[j] = order[j], order[i]
        cuts = sorted(draw(free + 1) for _ in range(n))
        pos = 0
        prev_cut = 0
        total = 0.0
        for k in range(n):
            pos += cuts[k] - prev_cut
            prev_cut = cuts[k]
            t = order[k]
            h = held[t]
            pnl = sides[t] * (closes[pos + h - 1] - opens[pos]) * point_value * contracts[t] - costs[t]
            total += pnl
            pos += h
        totals.append(total)
        if total >= actual:
            beats += 1
    totals.sort()
    return {
        "p_value": (1 + beats) / (1 + runs),
        "beats": beats,
        "runs": runs,
        "median_total": nearest_rank(totals, 1, 2),
        "actual_total": actual,
    }


def assess(spec):
    capital = float(spec["capital"])
    d = daily_pnl(capital, [float(e) for e in spec["equity"]])
    trades = spec["trades"]
    nets = [float(t["net"]) for t in trades]
    opens = [float(x) for x in spec["opens"]]
    closes = [float(x) for x in spec["closes"]]
    return {
        "years": by_year(spec["dates"], d),
        "thirds": thirds(d),
        "best_days": best_days(d),
        "streak": streak(nets),
        "bootstrap": bootstrap(capital, nets, int(spec["bootstrap"]["resamples"]), int(spec["bootstrap"]["seed"])),
        "null": null_test(
            trades, opens, closes, float(spec["point_value"]), int(spec["null"]["runs"]), int(spec["null"]["seed"])
        ),
    }


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    json.dump(assess(spec), sys.stdout)


if __name__ == "__main__":
    main()
