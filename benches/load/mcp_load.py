"""Load on the MCP server over streamable HTTP on loopback, with the official Python SDK.

Phase 1: CLIENTS concurrent clients, each with its own MCP session and settle session, loop for
SECONDS: `list_symbols`, `create_strategy` (a daily CL backtest) + `wait_for_completion`,
`get_backtest`, `list_strategies`, and every fourth round a 9-combination sweep. Every answer
is checked: no tool error, each backtest's numbers equal `settle backtest --json` for the same
parameters, each session lists exactly the versions its own client made (no answer mixed up
between sessions).

Phase 2: one client runs a 10,000-combination sweep (CL daily, whole history) while another
keeps calling `list_symbols` and running daily backtests: their latencies show whether the
sweep starves the server's runtime.

Prints p50/p99/max latencies as a table (or JSON with --json). A benchmark, not a test: it
asserts correctness, never speed. Usage:

    python benches/load/mcp_load.py --settle target/release/settle --data ../shared/data
"""
import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

CL_CSV = "converted/rtl/cushing_c1_CL_front_ohlc_daily.csv"
HEADLINE = ("tradeCount", "totalPnl", "winRate", "maxDrawdown", "sharpeRatio")
FASTS = list(range(3, 13))


class Failure(Exception):
    """A wrong or failed answer: the run stops and reports it."""


async def call(session, tool: str, args: dict) -> dict:
    res = await session.call_tool(tool, args)
    if res.is_error:
        raise Failure(f"{tool}({args}) failed: {res.content[0].text}")
    return res.structured_content


async def wait(session, kick: dict) -> dict:
    while True:
        done = await call(session, "wait_for_completion", {
            "session_id": kick["session_id"], "operation_id": kick["operation_id"], "task": kick["task"]})
        if done["status"] != "timed_out":
            if done["status"] != "succeeded":
                raise Failure(f"{kick['task']} {kick['operation_id']}: {done['status']} {done.get('error')}")
            return done


async def timed(latencies: list, coro):
    start = time.perf_counter()
    out = await coro
    latencies.append((time.perf_counter() - start) * 1e3)
    return out


def cli_headline(settle: str, home: Path, fast: int) -> dict:
    out = subprocess.run([settle, "--home", str(home), "backtest", "--template", "sma_cross", "--symbol", "CL",
                          "--window", "last 2 years", "--param", f"fast={fast}", "--json"],
                         check=True, capture_output=True, text=True)
    metrics = json.loads(out.stdout)["metrics"]
    return {k: metrics[k] for k in HEADLINE}


async def backtest(s, sid: str, fast: int, want: dict, made: list, latencies: list) -> None:
    """A daily backtest through create_strategy + wait_for_completion, checked against the CLI."""
    async def build():
        kick = await call(s, "create_strategy", {
            "session_id": sid, "description": f"fast {fast}", "symbol": "CL", "template": "sma_cross",
            "window": "last 2 years", "parameters": [{"key": "fast", "value": fast}]})
        await wait(s, kick)
        return kick
    kick = await timed(latencies, build())
    made.append(kick["artifact_id"])
    bt = await call(s, "get_backtest", {"session_id": sid, "artifact_id": kick["artifact_id"]})
    got = {k: bt["backtestResults"][k] for k in HEADLINE}
    if got != want[fast]:
        raise Failure(f"session {sid} fast {fast}: {got} != CLI {want[fast]}")


async def client(url: str, i: int, deadline: float, want: dict, lat: dict) -> int:
    """One client's loop until `deadline`; returns its rounds."""
    async with streamable_http_client(url) as (read, write, *_):
        async with ClientSession(read, write) as s:
            await s.initialize()
            sid = (await call(s, "create_session", {"title": f"load client {i}"}))["session_id"]
            made, rounds = [], 0
            while time.monotonic() < deadline:
                await timed(lat["list_symbols"], call(s, "list_symbols", {}))
                fast = FASTS[(i + rounds) % len(FASTS)]
                await backtest(s, sid, fast, want, made, lat["daily backtest"])
                mine = [v["artifact_id"] for v in (await call(s, "list_strategies", {"session_id": sid}))["strategies"]]
                if sorted(mine) != sorted(made):
                    raise Failure(f"session {sid} lists {len(mine)} versions, its client made {len(made)}")
                if rounds % 4 == 3:
                    setup = await call(s, "setup_optimization", {
                        "session_id": sid, "artifact_id": made[-1],
                        "parameters": [{"key": "fast", "min": 4, "max": 6}, {"key": "slow", "min": 28, "max": 30}]})
                    kick = await call(s, "run_optimization",
                                      {"session_id": sid, "optimization_id": setup["optimization_id"]})
                    done = await timed(lat["9-combination sweep"], wait(s, kick))
                    if done["optimization"]["completed"] != 9:
                        raise Failure(f"sweep {setup['optimization_id']}: {done['optimization']}")
                rounds += 1
            return rounds


async def beside_a_big_sweep(url: str, want: dict, lat: dict) -> float:
    """Starts a 10,000-combination sweep and measures other calls until it ends; its seconds."""
    async with streamable_http_client(url) as (read, write, *_), \
            streamable_http_client(url) as (read2, write2, *_):
        async with ClientSession(read, write) as big, ClientSession(read2, write2) as other:
            await big.initialize()
            await other.initialize()
            sid = (await call(big, "create_session", {"title": "big sweep"}))["session_id"]
            made = await call(big, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL", "template": "sma_cross",
                "window": "all", "backtest": False})
            await wait(big, made)
            setup = await call(big, "setup_optimization", {
                "session_id": sid, "artifact_id": made["artifact_id"],
                "parameters": [{"key": "fast", "min": 2, "max": 51}, {"key": "slow", "min": 51, "max": 250}]})
            if setup["total_combinations"] != 10_000:
                raise Failure(f"grid of {setup['total_combinations']}")
            start = time.perf_counter()
            kick = await call(big, "run_optimization", {"session_id": sid, "optimization_id": setup["optimization_id"]})
            sweep = asyncio.create_task(wait(big, kick))
            osid = (await call(other, "create_session", {"title": "beside"}))["session_id"]
            made_other, n = [], 0
            while not sweep.done():
                await timed(lat["list_symbols during sweep"], call(other, "list_symbols", {}))
                if n % 5 == 0:
                    await backtest(other, osid, FASTS[n % len(FASTS)], want, made_other,
                                   lat["daily backtest during sweep"])
                n += 1
            done = await sweep
            if done["optimization"]["completed"] != 10_000:
                raise Failure(f"big sweep: {done['optimization']}")
            return time.perf_counter() - start


def serve(settle: str, home: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([settle, "--home", str(home), "serve", "--http", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("settle serve --http did not start")


def figures(lat: dict) -> list[dict]:
    out = []
    for name, ms in lat.items():
        if ms:
            ms = sorted(ms)
            out.append({"call": name, "n": len(ms), "p50_ms": round(statistics.median(ms), 2),
                        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2), "max_ms": round(ms[-1], 2)})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--settle", required=True, help="the settle binary")
    ap.add_argument("--data", required=True, help="the shared data directory")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        subprocess.run([a.settle, "--home", tmp, "data", "import", str(Path(a.data) / CL_CSV), "--symbol", "CL",
                        "--bar", "1d", "--time-col", "date", "--volume-col", ""], check=True, capture_output=True)
        want = {f: cli_headline(a.settle, home, f) for f in FASTS}
        proc, port = serve(a.settle, home)
        url = f"http://127.0.0.1:{port}/mcp"
        lat = {k: [] for k in ("list_symbols", "daily backtest", "9-combination sweep", "list_symbols during sweep",
                               "daily backtest during sweep")}
        try:
            deadline = time.monotonic() + a.seconds

            async def phase1():
                return await asyncio.gather(*(client(url, i, deadline, want, lat) for i in range(a.clients)))
            rounds = asyncio.run(phase1())
            sweep_s = asyncio.run(beside_a_big_sweep(url, want, lat))
        except Failure as e:
            print(f"FAILED: {e}", file=sys.stderr)
            return 1
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    table = figures(lat)
    if a.json:
        print(json.dumps({"clients": a.clients, "seconds": a.seconds, "rounds": sum(rounds),
                          "big_sweep_s": round(sweep_s, 2), "latencies": table}, indent=1))
        return 0
    print(f"{a.clients} clients for {a.seconds:g} s: {sum(rounds)} rounds, every answer checked; "
          f"10,000-combination sweep in {sweep_s:.2f} s")
    print(f"{'call':<30} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for f in table:
        print(f"{f['call']:<30} {f['n']:>6} {f['p50_ms']:>9} {f['p99_ms']:>9} {f['max_ms']:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
