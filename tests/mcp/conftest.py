"""Shared helpers: drive the built `settle serve` binary over stdio with the official MCP SDK.

The binary is $SETTLE_BIN, else $CARGO_TARGET_DIR/debug/settle, else
~/.cache/settle/target/debug/settle. Build it first with `cargo build --bin settle`.
"""
import asyncio
import contextlib
import os
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
async def settle_session(home: Path):
    """An initialized MCP client session against a fresh `settle serve` on `home`."""
    params = StdioServerParameters(
        command=settle_bin(), args=["serve"], env={**os.environ, "SETTLE_HOME": str(home)}
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            yield session, init


def run(coro):
    return asyncio.run(coro)
