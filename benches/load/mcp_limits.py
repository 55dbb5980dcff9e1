"""Peak memory of the largest answers one MCP client can ask for: a backtest of 1,000,000
one-minute bars through `create_strategy`, then all of it read back, every page of
`get_backtest` (500 trades each, with the thinned equity) and the whole-result resources
(every trade, the whole daily equity curve, the HTML report). Prints the server's peak RSS
(`VmHWM`) after each step, and the sizes of what was read.

The server runs over stdio with the official Python SDK, on a store that holds an ES
one-minute continuous series of at least a million bars. A measurement, not a test. Usage:

    python benches/load/mcp_limits.py --settle target/release/settle --home DIR
"""
import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def peak_rss_mb(home: str) -> float:
    """The peak RSS of the `settle serve` process serving `home`."""
    pids = subprocess.run(["pgrep", "-f", "settle serve"], capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"SETTLE_HOME={home}".encode() in env:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    raise SystemExit(f"no settle serve process for {home}")


async def call(s, tool: str, args: dict) -> dict:
    res = await s.call_tool(tool, args)
    if res.is_error:
        raise SystemExit(f"{tool}: {res.content[0].text}")
    return res.structured_content


async def measure(settle: str, home: str) -> None:
    params = StdioServerParameters(command=settle, args=["serve"], env={**os.environ, "SETTLE_HOME": home})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            print(f"{'step':<58} {'peak RSS':>10}")
            print(f"{'server started':<58} {peak_rss_mb(home):>7.0f} MB")
            sid = (await call(s, "create_session", {"title": "limits"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "ES", "bar_size": "1m",
                "template": "sma_cross", "window": "all"})
            while True:
                done = await call(s, "wait_for_completion", {
                    "session_id": sid, "operation_id": made["operation_id"], "task": "strategy_op"})
                if done["status"] != "timed_out":
                    break
            assert done["status"] == "succeeded", done
            art = made["artifact_id"]
            print(f"{'create_strategy + wait (1,000,000 bars)':<58} {peak_rss_mb(home):>7.0f} MB")
            offset, pages, answer_bytes = 0, 0, 0
            while offset is not None:
                res = await s.call_tool("get_backtest", {
                    "session_id": sid, "artifact_id": art, "trades_limit": 500,
                    "trades_offset": offset, "include_equity": True})
                answer_bytes += sum(len(c.text) for c in res.content)
                bt = res.structured_content
                offset, pages = bt.get("next_trades_offset"), pages + 1
            print(f"{f'get_backtest, all {pages} pages ({answer_bytes / 1e3:,.0f} KB of text)':<58} "
                  f"{peak_rss_mb(home):>7.0f} MB")
            for name, uri in [("trades", bt["trades_uri"]), ("equity", bt["equity_uri"]),
                              ("report", bt["trades_uri"].replace("/trades", "/report"))]:
                text = (await s.read_resource(uri)).contents[0].text
                size = f"{len(text) / 1e3:,.0f} KB"
                if name == "trades":
                    size += f", {len(json.loads(text)):,} trades"
                print(f"{f'resource {name} ({size})':<58} {peak_rss_mb(home):>7.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settle", required=True)
    ap.add_argument("--home", required=True, help="a settle home whose store holds ES 1m bars")
    a = ap.parse_args()
    # The server's state goes to a scratch home beside a copy of the store.
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(Path(a.home) / "store", Path(scratch) / "store")
        asyncio.run(measure(a.settle, scratch))


if __name__ == "__main__":
    main()
