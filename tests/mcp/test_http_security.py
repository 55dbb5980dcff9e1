"""The streamable HTTP transport against DNS rebinding and cross-origin pages: a request that
carries a foreign `Origin` or `Host` is refused with 403; a non-browser client (no `Origin`),
a loopback origin and one allowed with `--allow-origin` are served. Plain urllib, so each
request carries exactly the headers the test sets."""
import json
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import http_server, settle_bin

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "origin-test", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`settle serve --http 127.0.0.1:PORT --allow-origin https://app.example.com`."""
    with http_server(tmp_path_factory.mktemp("origin-home"), "--allow-origin",
                     "https://app.example.com") as port:
        yield port


class Answer:
    def __init__(self, status_code, text):
        self.status_code, self.text = status_code, text


def post(port, message=INIT, **headers):
    """POSTs `message` (an initialize request); urllib sends a given `Host` header as it is."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", data=json.dumps(message).encode(),
                                 headers={**HEADERS, **headers}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return Answer(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.read().decode())


def test_foreign_origin_is_refused(server):
    assert post(server, Origin="http://evil.example").status_code == 403
    assert post(server, Origin="https://localhost.evil.example").status_code == 403
    assert post(server, Origin="null").status_code == 403


def test_foreign_host_is_refused(server):
    assert post(server, Host="evil.example").status_code == 403
    assert post(server, Host=f"evil.example:{server}").status_code == 403


def test_clients_without_origin_and_allowed_origins_are_served(server):
    plain = post(server)
    assert plain.status_code == 200, plain.text
    assert "serverInfo" in plain.text
    for origin in ["http://localhost:6274", "http://127.0.0.1:3000", "https://app.example.com"]:
        allowed = post(server, Origin=origin)
        assert allowed.status_code == 200, (origin, allowed.text)


def test_malformed_allowed_origin_fails_at_start(tmp_path):
    out = subprocess.run([settle_bin(), "--home", str(tmp_path), "serve", "--http", "127.0.0.1:0",
                          "--allow-origin", "localhost:6274"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "--allow-origin" in out.stderr and "expected an origin" in out.stderr


def test_a_tool_call_whose_arguments_are_not_an_object_is_invalid_params(server):
    """JSON-RPC's -32602 naming the problem, not -32601 "method not found"; a foreign page
    still gets 403 first."""
    call = {"jsonrpc": "2.0", "id": 9, "method": "tools/call",
            "params": {"name": "list_symbols", "arguments": "energy"}}
    answer = post(server, call)
    assert answer.status_code == 200
    error = json.loads(answer.text)["error"]
    assert error["code"] == -32602 and "`arguments` must be a JSON object, got a string" in error["message"]
    assert post(server, call, Origin="http://evil.example").status_code == 403


def test_over_stdio_too(tmp_path):
    proc = subprocess.Popen([settle_bin(), "--home", str(tmp_path), "serve"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        for message in (INIT, {"jsonrpc": "2.0", "method": "notifications/initialized"},
                        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                         "params": {"name": "list_symbols", "arguments": [1]}},
                        {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                         "params": {"name": "get_contract_specs", "arguments": {"symbol": "ES"}}}):
            proc.stdin.write((json.dumps(message) + "\n").encode())
        proc.stdin.flush()
        answers = {}
        while len(answers) < 3:
            line = json.loads(proc.stdout.readline())
            answers[line["id"]] = line
        assert answers[2]["error"]["code"] == -32602
        assert "got an array" in answers[2]["error"]["message"]
        assert answers[3]["result"]["structuredContent"]["tick_value"] == 12.5
    finally:
        proc.kill()
