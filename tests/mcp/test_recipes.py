"""The AskFutures recipes end to end over stdio with the official Python SDK, on real CL data.

Every number an MCP tool reports is checked against `settle backtest --json` run on the same
store: a separate path (CLI argument parsing, template loading, no SQLite, no operations).
"""
import asyncio
import csv
import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

from conftest import call, cli_backtest, import_cl_daily, run, settle_bin, settle_session, wait

HEADLINE = ("tradeCount", "totalPnl", "winRate", "maxDrawdown", "sharpeRatio", "profitFactor")


def headline(metrics: dict) -> dict:
    return {k: metrics[k] for k in HEADLINE}


async def read_json(session, uri: str):
    res = await session.read_resource(uri)
    (content,) = res.contents
    assert content.mime_type == "application/json"
    return json.loads(content.text)


def test_backtest_an_existing_strategy_in_place(tmp_path):
    """create_strategy(backtest=false) -> backtest_existing_strategy -> wait -> get_backtest:
    one version only, and the numbers equal the CLI's for the same template and window."""
    import_cl_daily(tmp_path)
    want = cli_backtest(tmp_path, "--template", "sma_cross", "--symbol", "CL", "--window", "last 2 years")
    assert want["metrics"]["tradeCount"] > 0

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {"title": "in place"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL",
                "template": "sma_cross", "window": "last 2 years", "backtest": False,
            })
            art = made["artifact_id"]
            built = await wait(s, made)
            assert built["status"] == "succeeded"
            assert built["strategy"]["backtestStatus"] == "not_tested"
            assert built["strategy"]["backtestResults"] is None
            kick = await call(s, "backtest_existing_strategy", {"session_id": sid, "artifact_id": art})
            assert (kick["task"], kick["artifact_id"]) == ("backtest", art)
            done = await wait(s, kick)
            assert done["status"] == "succeeded"
            assert done["strategy"]["artifact_id"] == art
            assert done["strategy"]["version"] == 1

            versions = (await call(s, "list_strategies", {"session_id": sid}))["strategies"]
            assert [(v["artifact_id"], v["version"], v["backtestStatus"]) for v in versions] == [
                (art, 1, "passed")]
            detail = await call(s, "inspect_strategy", {"session_id": sid, "artifact_id": art})
            assert detail["window"] == "last 2 years"

            bt = await call(s, "get_backtest", {"session_id": sid, "artifact_id": art, "trades_limit": 5})
            assert headline(bt["backtestResults"]) == headline(want["metrics"])
            assert bt["trades_total"] == want["metrics"]["tradeCount"]
            assert len(bt["trades"]) == 5 and bt["next_trades_offset"] == 5
            assert [t["pnl"] for t in bt["trades"]] == [t["netPnl"] for t in want["trades"][:5]]
            assert [(t["contract"], t["commission"], t["slippage"]) for t in bt["trades"]] == [
                (t["contract"], t["commission"], t["slippage"]) for t in want["trades"][:5]]
            # What was traded, as the CLI says it; no equity unless asked.
            for key in ("series", "contracts", "firstBar", "lastBar", "bars", "closeOnly", "adjustment",
                        "skippedEntries", "notes", "commissionPerSide"):
                assert bt[key] == want[key], key
            assert bt["daily_equity"] == [] and bt["equity_points_total"] == len(want["dailyEquity"])
            curve = (await call(s, "get_backtest", {"session_id": sid, "artifact_id": art,
                                                    "include_equity": True}))["daily_equity"]
            full = [(e["date"], e["equity"]) for e in want["dailyEquity"]]
            thin = [(e["date"], e["equity"]) for e in curve]
            assert len(full) > 250 and len(thin) <= 250
            assert set(thin) <= set(full) and thin[0] == full[0] and thin[-1] == full[-1]
            assert max_fall([e for _, e in thin]) == max_fall([e for _, e in full]) > 0

            # The whole result as resources, listed and templated.
            trades = await read_json(s, bt["trades_uri"])
            assert len(trades) == want["metrics"]["tradeCount"]
            assert abs(sum(t["pnl"] for t in trades) - want["metrics"]["totalPnl"]) < 1e-6
            equity = await read_json(s, bt["equity_uri"])
            assert len(equity) == len(want["dailyEquity"])
            listed = {r.uri for r in (await s.list_resources()).resources}
            assert {bt["trades_uri"], bt["equity_uri"]} <= listed
            templates = {t.uri_template for t in (await s.list_resource_templates()).resource_templates}
            assert "settle://backtests/{backtest_id}/trades" in templates

            # Re-running in place makes a new backtest of the same version, same numbers.
            again = await wait(s, await call(s, "backtest_existing_strategy",
                                             {"session_id": sid, "artifact_id": art}))
            assert again["strategy"]["backtest_id"] != bt["backtest_id"]
            assert headline(again["strategy"]["backtestResults"]) == headline(want["metrics"])
            assert len((await call(s, "list_strategies", {"session_id": sid}))["strategies"]) == 1

    run(go())


def max_fall(equity: list) -> float:
    """Largest peak-to-trough fall of a curve, by hand."""
    peak, fall = equity[0], 0.0
    for e in equity:
        peak = max(peak, e)
        fall = max(fall, peak - e)
    return fall


def test_window_words_and_their_errors(tmp_path):
    """`window` takes the CLI's words; a bad or conflicting window is a tool error naming it."""
    import_cl_daily(tmp_path)
    want = cli_backtest(tmp_path, "--template", "sma_cross", "--symbol", "CL", "--window", "since 2020",
                        "--param", "fast=5")

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {}))["session_id"]
            base = {"session_id": sid, "description": "w", "symbol": "CL", "template": "sma_cross"}
            bad = await s.call_tool("create_strategy", {**base, "window": "last forever"})
            assert bad.is_error and bad.content[0].text.startswith("window:"), bad.content[0].text
            both = await s.call_tool("create_strategy", {**base, "window": "ytd", "start": "2020-01-01"})
            assert both.is_error and both.content[0].text.startswith("window:"), both.content[0].text
            two = await s.call_tool("create_strategy", {**base, "rules_json": "{}"})
            assert two.is_error and two.content[0].text.startswith("rules_json, template:"), two.content[0].text
            made = await call(s, "create_strategy", {**base, "window": "since 2020",
                                                     "parameters": [{"key": "fast", "value": 5}]})
            done = await wait(s, made)
            assert headline(done["strategy"]["backtestResults"]) == headline(want["metrics"])
            # update_strategy: a new window replaces the dates; a new version, same chain.
            up = await call(s, "update_strategy", {"session_id": sid, "artifact_id": made["artifact_id"],
                                                   "window": "2022-01-01..2022-12-31"})
            done = await wait(s, up)
            assert done["strategy"]["version"] == 2
            want22 = cli_backtest(tmp_path, "--template", "sma_cross", "--symbol", "CL",
                                  "--window", "2022-01-01..2022-12-31", "--param", "fast=5")
            assert headline(done["strategy"]["backtestResults"]) == headline(want22["metrics"])
            # update_strategy reads the same arguments the same way: both ways at once is an error.
            clash = await s.call_tool("update_strategy", {"session_id": sid, "artifact_id": up["artifact_id"],
                                                          "window": "ytd", "end": "2022-06-30"})
            assert clash.is_error and clash.content[0].text.startswith("window:"), clash.content[0].text

    run(go())


def test_run_a_sweep(tmp_path):
    """setup_optimization -> run_optimization -> wait_for_completion -> get_optimization (paged)."""
    import_cl_daily(tmp_path)
    fasts, slows = [5, 10, 15, 20], [30, 50]

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {"title": "sweep"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL",
                "template": "sma_cross", "window": "since 2015",
            })
            art = made["artifact_id"]
            await wait(s, made)
            keys = {p["key"] for p in (await call(s, "list_strategies", {"session_id": sid}))
                    ["strategies"][0]["canonicalParameters"]}
            assert {"fast", "slow"} <= keys
            setup = await call(s, "setup_optimization", {
                "session_id": sid, "artifact_id": art,
                "parameters": [{"key": "fast", "min": 5, "max": 20, "step": 5},
                               {"key": "slow", "min": 30, "max": 50, "step": 20}],
            })
            assert setup["total_combinations"] == 8
            opt = setup["optimization_id"]
            before = await call(s, "get_optimization", {"session_id": sid, "optimization_id": opt})
            assert (before["status"], before["completed"]) == ("configured", 0)
            kick = await call(s, "run_optimization", {"session_id": sid, "optimization_id": opt})
            done = await wait(s, kick)
            assert done["status"] == "succeeded"
            summary = done["optimization"]
            assert (summary["completed"], summary["failed_count"]) == (8, 0)

            rows, offset = [], 0
            while offset is not None:
                page = await call(s, "get_optimization",
                                  {"session_id": sid, "optimization_id": opt, "offset": offset, "limit": 3,
                                   "order": "combination"})
                rows += page["rows"]
                offset = page.get("next_offset")
            assert [r["combo_index"] for r in rows] == list(range(8))
            grid = [{(p["key"], p["value"]) for p in r["parameters"]} for r in rows]
            assert grid == [{("fast", f), ("slow", sl)} for f in fasts for sl in slows]
            assert await read_json(s, page["rows_uri"]) == rows
            # By default the top 10 by rank_by (total P&L), best first.
            top = (await call(s, "get_optimization", {"session_id": sid, "optimization_id": opt}))["rows"]
            assert top == sorted(rows, key=lambda r: (-r["metrics"]["totalPnl"], r["combo_index"]))

            # Every row equals the CLI's backtest of the same parameters.
            for r in rows:
                p = {x["key"]: x["value"] for x in r["parameters"]}
                want = cli_backtest(tmp_path, "--template", "sma_cross", "--symbol", "CL",
                                    "--window", "since 2015", "--param", f"fast={p['fast']:g}",
                                    "--param", f"slow={p['slow']:g}")
                assert headline(r["metrics"]) == headline(want["metrics"]), p
            best = max(rows, key=lambda r: r["metrics"]["totalPnl"])
            assert page["best_result"] == best

            # And the whole table equals `settle sweep` over the same grid (the CLI's engine).
            assert [(r["combo_index"], [(p["key"], p["value"]) for p in r["parameters"]],
                     headline(r["metrics"])) for r in rows] == cli_sweep_rows(
                tmp_path, "--template", "sma_cross", "--symbol", "CL", "--window", "since 2015",
                "--param", "fast=5:20:5", "--param", "slow=30:50:20")

            # The best's Deflated Sharpe Ratio equals the CLI's guard for the same ranking.
            cli = json.loads(subprocess.run(
                [settle_bin(), "--home", str(tmp_path), "sweep", "--template", "sma_cross", "--symbol", "CL",
                 "--window", "since 2015", "--param", "fast=5:20:5", "--param", "slow=30:50:20",
                 "--objective", "totalPnl:max", "--json"],
                check=True, capture_output=True, text=True, timeout=300).stdout)
            assert cli["bestResult"]["index"] == best["combo_index"]
            dsr = cli["overfitting"]["deflatedSharpe"]
            assert (page["deflated_sharpe_ratio"], page["deflated_sharpe_trials"]) == (
                dsr["deflatedSharpe"], dsr["trials"]) and 0 < dsr["deflatedSharpe"] < 1
            text = (await s.call_tool("get_optimization", {"session_id": sid, "optimization_id": opt})).content[0].text
            assert f"Deflated Sharpe ratio of the best: {dsr['deflatedSharpe']:.3f}" in text, text

    run(go())


def cli_sweep_rows(home: Path, *args: str) -> list:
    """`settle sweep ... --export rows.csv`: (index, [(key, value)], headline metrics) per row.
    The CSV writes numbers in their shortest exact form and null metrics as empty cells."""
    out = home / "cli-sweep.csv"
    subprocess.run([settle_bin(), "--home", str(home), "sweep", *args, "--no-guards", "--json",
                    "--export", str(out)], check=True, capture_output=True, text=True, timeout=300)
    with out.open(newline="") as f:
        reader = csv.DictReader(f)
        keys = reader.fieldnames[1:reader.fieldnames.index("status")]
        rows = []
        for r in reader:
            assert r["status"] == "ok", r
            metrics = {k: None if r[k] == "" else float(r[k]) for k in HEADLINE}
            metrics["tradeCount"] = int(metrics["tradeCount"])
            rows.append((int(r["index"]), [(k, float(r[k])) for k in keys], metrics))
    return rows


def assert_grid_rows(rows: list) -> None:
    """Rows of the fast 2..50 x slow 51..250 grid (fast slowest): strictly in combination
    order, each with the parameters of its combo_index."""
    indices = [r["combo_index"] for r in rows]
    assert indices == sorted(set(indices)), indices
    for r in rows:
        i = r["combo_index"]
        assert {(p["key"], p["value"]) for p in r["parameters"]} == {("fast", 2 + i // 200), ("slow", 51 + i % 200)}


async def start_long_sweep(s, title: str):
    """A new session with a CL `sma_cross` version and its fast 2..50 x slow 51..250 sweep
    started: 9800 full-history backtests, several seconds even on a fast machine, so it is
    still running when the test acts on it. Returns (session_id, artifact_id, setup, kickoff)."""
    sid = (await call(s, "create_session", {"title": title}))["session_id"]
    made = await call(s, "create_strategy", {
        "session_id": sid, "description": "SMA cross", "symbol": "CL",
        "template": "sma_cross", "window": "all", "backtest": False,
    })
    await wait(s, made)
    setup = await call(s, "setup_optimization", {
        "session_id": sid, "artifact_id": made["artifact_id"],
        "parameters": [{"key": "fast", "min": 2, "max": 50, "step": 1},
                       {"key": "slow", "min": 51, "max": 250, "step": 1}],
    })
    kick = await call(s, "run_optimization",
                      {"session_id": sid, "optimization_id": setup["optimization_id"]})
    return sid, made["artifact_id"], setup, kick


async def until_rows(s, sid: str, opt: str, kick: dict, n: int = 3) -> None:
    """Waits (in short wait_for_completion calls) until the sweep has `n` finished rows."""
    while (await call(s, "get_optimization", {"session_id": sid, "optimization_id": opt,
                                              "limit": 0}))["completed"] < n:
        await call(s, "wait_for_completion",
                   {"session_id": sid, "operation_id": kick["operation_id"], "task": "optimization",
                    "timeout_seconds": 0.2})


def test_cancel_a_running_sweep_and_read_partial_results(tmp_path):
    import_cl_daily(tmp_path)

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid, art, setup, kick = await start_long_sweep(s, "cancel")
            total = setup["total_combinations"]
            assert total == 9800
            opt = setup["optimization_id"]
            busy = await s.call_tool("run_optimization", {"session_id": sid, "optimization_id": opt})
            assert busy.is_error
            # Wait for a few finished rows, then stop the session's sweep.
            await until_rows(s, sid, opt, kick)
            # A client that sends a progress token hears done/total, the rate and the time left.
            seen = []

            async def on_progress(progress, total, message):
                seen.append((progress, total, message))

            res = await s.call_tool("wait_for_completion", {
                "session_id": sid, "operation_id": kick["operation_id"], "task": "optimization",
                "timeout_seconds": 2.5}, progress_callback=on_progress)
            assert res.structured_content["status"] == "timed_out"
            assert seen and all(t == total for _, t, _ in seen), seen
            assert [p for p, _, _ in seen] == sorted(p for p, _, _ in seen)
            assert f"/{total} done" in seen[-1][2] and "/s" in seen[-1][2], seen
            stop = await call(s, "cancel_task", {"session_id": sid})
            assert stop["operation_id"] == kick["operation_id"] and stop["cancel_requested"] is True
            done = await wait(s, kick)
            assert done["status"] == "cancelled"
            partial = done["optimization"]
            assert partial["status"] == "cancelled"
            assert 3 <= partial["completed"] < total
            again = await call(s, "cancel_task", {"session_id": sid, "operation_id": kick["operation_id"]})
            assert again["cancel_requested"] is False and again["status"] == "cancelled"

            page = await call(s, "get_optimization", {"session_id": sid, "optimization_id": opt, "limit": 500,
                                                      "order": "combination"})
            assert len(page["rows"]) == min(partial["completed"], 500)
            # Threads work on different parts of the grid, so the finished rows need not be a
            # prefix; they are read in combination order, each with its own grid point.
            assert_grid_rows(page["rows"])
            assert all(r["metrics"]["tradeCount"] > 0 for r in page["rows"])
            best = page["best_result"]
            assert all(best["metrics"]["totalPnl"] >= r["metrics"]["totalPnl"] for r in page["rows"])
            ranked = await call(s, "get_optimization", {"session_id": sid, "optimization_id": opt, "limit": 1})
            assert ranked["rows"] == [best]
            # A partial grid's best is not judged.
            assert page["deflated_sharpe_ratio"] is None
            text = (await s.call_tool("get_optimization", {"session_id": sid, "optimization_id": opt})).content[0].text
            assert "No deflated Sharpe ratio: the sweep was cancelled" in text, text
            # The session may sweep again once the first is stopped.
            setup2 = await call(s, "setup_optimization", {
                "session_id": sid, "artifact_id": art,
                "parameters": [{"key": "fast", "min": 5, "max": 5}]})
            assert (await wait(s, await call(s, "run_optimization", {
                "session_id": sid, "optimization_id": setup2["optimization_id"]})))["status"] == "succeeded"

    run(go())


def test_restart_finds_everything_again(tmp_path):
    """Sessions, versions, backtests, sweeps and resources survive a server restart."""
    import_cl_daily(tmp_path)

    async def first():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {"title": "keep me"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "v1", "symbol": "CL", "template": "ema_cross",
                "window": "since 2018"})
            await wait(s, made)
            up = await call(s, "update_strategy", {"session_id": sid, "artifact_id": made["artifact_id"],
                                                   "parameters": [{"key": "fast", "value": 8}],
                                                   "description": "v2: faster"})
            await wait(s, up)
            setup = await call(s, "setup_optimization", {
                "session_id": sid, "artifact_id": up["artifact_id"],
                "parameters": [{"key": "fast", "min": 6, "max": 10, "step": 2}]})
            await wait(s, await call(s, "run_optimization",
                                     {"session_id": sid, "optimization_id": setup["optimization_id"]}))
            bt = await call(s, "get_backtest", {"session_id": sid, "artifact_id": up["artifact_id"]})
            opt = await call(s, "get_optimization",
                             {"session_id": sid, "optimization_id": setup["optimization_id"]})
            versions = await call(s, "list_strategies", {"session_id": sid})
            resources = sorted(r.uri for r in (await s.list_resources()).resources)
            return sid, bt, opt, versions, resources

    sid, bt, opt, versions, resources = run(first())
    # Two backtests (trades, equity, report, manifest), one sweep (rows, manifest) and the rule
    # language.
    assert len(versions["strategies"]) == 2 and len(resources) == 2 * 4 + 2 + 1

    async def second():
        async with settle_session(tmp_path) as (s, _):
            sessions = (await call(s, "list_sessions", {}))["sessions"]
            assert [x["session_id"] for x in sessions] == [sid]
            assert await call(s, "list_strategies", {"session_id": sid}) == versions
            v2 = versions["strategies"][1]
            assert (v2["version"], v2["description"], v2["parent_artifact_id"]) == (
                2, "v2: faster", versions["strategies"][0]["artifact_id"])
            assert await call(s, "get_backtest", {"session_id": sid, "artifact_id": v2["artifact_id"]}) == bt
            assert await call(s, "get_optimization",
                              {"session_id": sid, "optimization_id": opt["optimization_id"]}) == opt
            assert sorted(r.uri for r in (await s.list_resources()).resources) == resources
            assert len(await read_json(s, bt["trades_uri"])) == bt["trades_total"]

    run(second())


def settle_children() -> list[int]:
    """The `settle` processes this test process started (Linux /proc)."""
    kids = []
    for task in Path("/proc/self/task").iterdir():
        kids += [int(p) for p in (task / "children").read_text().split()]
    return [p for p in kids if Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[1:2] == [b"serve"]]


def test_a_crash_mid_sweep_fails_the_operation_and_keeps_finished_rows(tmp_path):
    """The server is killed (SIGKILL, no chance to clean up) while a sweep runs. Its database
    passes SQLite's integrity check; the next server reports the operation failed with reason
    `interrupted`, keeps every combination finished before the crash with the CLI's numbers,
    and lets the session sweep again."""
    import_cl_daily(tmp_path)

    async def first():
        async with settle_session(tmp_path) as (s, _):
            sid, art, setup, kick = await start_long_sweep(s, "crash")
            opt = setup["optimization_id"]
            await until_rows(s, sid, opt, kick)
            (pid,) = settle_children()
            os.kill(pid, signal.SIGKILL)
            return sid, art, opt, kick["operation_id"]

    sid, art, opt, op = run(first())
    # The database the killed server was writing is whole (SQLite's own check).
    with sqlite3.connect(tmp_path / "settle.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    async def second():
        async with settle_session(tmp_path) as (s, _):
            done = await call(s, "wait_for_completion", {"session_id": sid, "operation_id": op,
                                                         "task": "optimization"})
            assert (done["status"], done["error"]) == ("failed", "interrupted")
            assert done["optimization"]["status"] == "failed"
            page = await call(s, "get_optimization", {"session_id": sid, "optimization_id": opt, "limit": 500,
                                                      "order": "combination"})
            completed = page["completed"]
            assert 3 <= completed < page["total_combinations"] == 9800
            assert len(page["rows"]) == min(completed, 500)
            assert_grid_rows(page["rows"])
            for r in (page["rows"][0], page["rows"][-1]):
                p = {x["key"]: x["value"] for x in r["parameters"]}
                want = cli_backtest(tmp_path, "--template", "sma_cross", "--symbol", "CL", "--window", "all",
                                    "--param", f"fast={p['fast']:g}", "--param", f"slow={p['slow']:g}")
                assert headline(r["metrics"]) == headline(want["metrics"]), p
            (version,) = (await call(s, "list_strategies", {"session_id": sid}))["strategies"]
            assert (version["artifact_id"], version["lifecycle_status"]) == (art, "ready")
            # The dead sweep does not block the session.
            setup = await call(s, "setup_optimization", {
                "session_id": sid, "artifact_id": art, "parameters": [{"key": "fast", "min": 5, "max": 5}]})
            again = await wait(s, await call(s, "run_optimization", {
                "session_id": sid, "optimization_id": setup["optimization_id"]}))
            assert (again["status"], again["optimization"]["completed"]) == ("succeeded", 1)

    run(second())


def test_kills_during_strategy_builds_and_backtest_writes_lose_nothing(tmp_path):
    """The server is killed (SIGKILL) at several moments while it builds new strategy versions
    and writes their backtests, with a sweep running beside them. After each kill the database
    passes SQLite's integrity check, and the next server finds every operation either
    succeeded, with its whole backtest (every trade, the CLI's numbers), or failed with reason
    `interrupted`: nothing half-written, nothing left running."""
    import_cl_daily(tmp_path)
    fasts = [3, 4, 5, 6, 7, 8]
    want = {f: headline(cli_backtest(tmp_path, "--template", "sma_cross", "--symbol", "CL", "--window", "all",
                                     "--param", f"fast={f}")["metrics"]) for f in fasts}
    outcomes = []
    for delay in (0.0, 0.02, 0.1):
        async def burst():
            async with settle_session(tmp_path) as (s, _):
                sid, _, _, sweep = await start_long_sweep(s, f"kill after {delay}s")
                kicks = [await call(s, "create_strategy", {
                    "session_id": sid, "description": f"fast {f}", "symbol": "CL", "template": "sma_cross",
                    "window": "all", "parameters": [{"key": "fast", "value": f}]}) for f in fasts]
                await asyncio.sleep(delay)
                (pid,) = settle_children()
                os.kill(pid, signal.SIGKILL)
                return sid, sweep, kicks

        sid, sweep, kicks = run(burst())
        with sqlite3.connect(tmp_path / "settle.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

        async def check():
            async with settle_session(tmp_path) as (s, _):
                for kick in [sweep, *kicks]:
                    done = await call(s, "wait_for_completion", {
                        "session_id": sid, "operation_id": kick["operation_id"], "task": kick["task"]})
                    outcomes.append((done["status"], done["error"]))
                    assert (done["status"], done["error"]) in (("succeeded", None), ("failed", "interrupted"))
                for f, kick in zip(fasts, kicks):
                    v = await call(s, "inspect_strategy", {"session_id": sid, "artifact_id": kick["artifact_id"]})
                    if v["strategy"]["backtestStatus"] != "passed":
                        continue
                    bt = await call(s, "get_backtest", {"session_id": sid, "artifact_id": kick["artifact_id"],
                                                        "trades_limit": 500})
                    assert headline(bt["backtestResults"]) == want[f], f
                    assert len(bt["trades"]) == bt["trades_total"] == want[f]["tradeCount"]

        run(check())
    # The sweep (9800 backtests) is always cut short; some builds finished before a kill.
    assert ("failed", "interrupted") in outcomes and ("succeeded", None) in outcomes, outcomes
