"""The server under the two Node clients of the MCP project: the Inspector CLI (stdio) and the
conformance suite (streamable HTTP). Both come pinned from scripts/node-tools.sh."""
import json
import os
import subprocess

import pytest

from conftest import http_server, node_env, settle_bin
from test_stdio import EXPECTED_TOOLS

# The scenarios an application server can pass (the others need the suite's fixture tools).
SCENARIOS = ["server-initialize", "ping", "tools-list", "dns-rebinding-protection"]


def inspector(home, env, *args):
    """`mcp-inspector --cli settle serve ...` parsed as JSON."""
    out = subprocess.run(
        [f"{env['SETTLE_NODE_BIN']}/mcp-inspector", "--cli", "-e", f"SETTLE_HOME={home}",
         settle_bin(), "serve", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_inspector_lists_and_calls_tools(tmp_path):
    env = node_env()
    listed = inspector(tmp_path, env, "--method", "tools/list")
    assert EXPECTED_TOOLS <= {t["name"] for t in listed["tools"]}

    es = inspector(tmp_path, env, "--method", "tools/call", "--tool-name", "get_contract_specs",
                   "--tool-arg", "symbol=ES")
    assert es["isError"] is False
    assert (es["structuredContent"]["tick_size"], es["structuredContent"]["tick_value"]) == (0.25, 12.5)

    bad = inspector(tmp_path, env, "--method", "tools/call", "--tool-name", "list_sessions",
                    "--tool-arg", "status=sleeping")
    assert bad["isError"] is True and "status:" in bad["content"][0]["text"]

    templates = inspector(tmp_path, env, "--method", "resources/templates/list")
    assert {t["uriTemplate"] for t in templates["resourceTemplates"]} == {
        "settle://backtests/{backtest_id}/trades", "settle://backtests/{backtest_id}/equity",
        "settle://backtests/{backtest_id}/report", "settle://backtests/{backtest_id}/manifest",
        "settle://optimizations/{optimization_id}/rows", "settle://optimizations/{optimization_id}/manifest",
        "settle://assessments/{result_hash}",
        "settle://quantconnect/answers/{id}"}


@pytest.fixture(scope="module")
def http_url(tmp_path_factory):
    """`settle serve --http 127.0.0.1:PORT` on a fresh home, until the module's tests end."""
    with http_server(tmp_path_factory.mktemp("http-home")) as port:
        yield f"http://127.0.0.1:{port}/mcp"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conformance_scenario(http_url, scenario, tmp_path):
    env = node_env()
    out = subprocess.run(
        [f"{env['SETTLE_NODE_BIN']}/conformance", "server", "--url", http_url, "--scenario", scenario,
         "-o", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    assert " 0 failed" in report and "Passed: 0/" not in report, report
