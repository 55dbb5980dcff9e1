"""settle's QuantConnect cloud tools over stdio, driven by the official Python SDK.

QuantConnect's servers are the only thing mocked. Prism serves the old OpenAPI spec and checks
one thing: the bodies settle sends to those 24 endpoints have the fields and types that spec
asks for (it answers 422 otherwise). It does not check the auth hash (any Basic header passes)
nor reject empty bodies, so those are checked by a local listener that recomputes the auth
header and validates every body against QuantConnect's own request schemas (tools.json, with
the `jsonschema` package). test_quantconnect_all_tools.py drives 64 of the 65 tools settle
serves (QuantConnect's 64 and update_file) through it, all but authorize_connection, whose
two-step flow test_quantconnect_faults.py drives through the same listener.
"""
import contextlib
import json
import os
import subprocess

import jsonschema
from mcp import ClientSession, StdioServerParameters, stdio_client

from conftest import run, settle_bin
from qc_mocks import TOOL, TOOLS, Listener, expected_authorization, json_body, multipart_fields, prism
from test_stdio import EXPECTED_TOOLS, walk_flat

USER_ID, TOKEN, AGENT = "424242", "0123456789abcdef-token", "settle-tests"
QC_NAMES = {t["name"] for t in TOOLS}
# QuantConnect's documented tool table also lists update_file, which its catalog lacks.
QC_SERVED = QC_NAMES | {"update_file"}


@contextlib.asynccontextmanager
async def session(home, *serve_args, **env_vars):
    """`settle serve SERVE_ARGS...` with only the QUANTCONNECT_*/AGENT_NAME/SETTLE_TOOLS
    variables given here."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QUANTCONNECT_") and k not in ("AGENT_NAME", "SETTLE_TOOLS")}
    env.update(SETTLE_HOME=str(home), **env_vars)
    params = StdioServerParameters(command=settle_bin(), args=["serve", *serve_args], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            yield s, init


def credentials(base_url):
    return {"QUANTCONNECT_USER_ID": USER_ID, "QUANTCONNECT_API_TOKEN": TOKEN,
            "QUANTCONNECT_API_BASE_URL": base_url, "AGENT_NAME": AGENT}


async def ok(s, tool, model=None):
    """The answer's JSON and its note. The text is the JSON itself, as QuantConnect's server
    returns it."""
    res = await s.call_tool(tool, {} if model is None else {"model": model})
    assert not res.is_error, f"{tool}: {res.content[0].text}"
    assert json.loads(res.content[0].text) == res.structured_content, tool
    return res.structured_content, res.structured_content.get("settleNote", "")


async def error(s, tool, args):
    res = await s.call_tool(tool, args)
    assert res.is_error, f"{tool} should fail: {res.content[0].text}"
    return res.content[0].text


def check_request(request, tool, endpoint=None):
    """The request went to the tool's endpoint, authenticated, with a body QuantConnect's own
    request schema accepts. Returns the body."""
    assert request["path"] == "/api/v2" + (endpoint or TOOL[tool]["endpoints"][0]), request["path"]
    headers = request["headers"]
    assert headers["Authorization"] == expected_authorization(USER_ID, TOKEN, headers["Timestamp"])
    body = json_body(request)
    schema = TOOL[tool].get("input_schema")
    if schema is None:
        assert body == {}, body
    else:
        jsonschema.validate(body, schema)
    return body


def test_toolsets_default_to_local_and_quantconnect_only_with_credentials(tmp_path):
    """Without credentials only settle's tools are listed (64 uncallable tools would crowd them
    out of Cursor's 40 and Antigravity's 50); with them, both; --tools and SETTLE_TOOLS decide."""
    creds = credentials("http://127.0.0.1:9")

    async def names(*args, **env):
        async with session(tmp_path, *args, **env) as (s, init):
            listed = (await s.list_tools()).tools
            return {t.name for t in listed}, init.instructions, listed

    async def go():
        local, instructions, listed = await names()
        assert local == EXPECTED_TOOLS and "create_compile" not in instructions
        size = len(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed],
                              separators=(",", ":")))
        assert size < 20_000, f"tools/list of the local tools is {size} bytes"
        assert (await names(**creds))[0] == EXPECTED_TOOLS | QC_SERVED
        assert (await names("--tools", "local", **creds))[0] == EXPECTED_TOOLS
        assert (await names(SETTLE_TOOLS="quantconnect"))[0] == QC_SERVED
        assert (await names("--tools", "local,quantconnect"))[0] == EXPECTED_TOOLS | QC_SERVED
    run(go())
    bad = subprocess.run([settle_bin(), "serve", "--tools", "local,lean"], capture_output=True, text=True,
                         timeout=30, env={**os.environ, "SETTLE_HOME": str(tmp_path)})
    assert bad.returncode != 0 and "unknown toolset `lean`" in bad.stderr, bad.stderr


def test_lists_quantconnects_tools_next_to_settles(tmp_path):
    async def go():
        async with session(tmp_path, "--tools", "all") as (s, init):
            assert "create_compile" in init.instructions and "read_backtest" in init.instructions
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert set(tools) == EXPECTED_TOOLS | QC_SERVED
            assert len(QC_NAMES) == 64 and not QC_SERVED & EXPECTED_TOOLS
            update = tools["update_file"].input_schema["properties"]["model"]
            assert update["required"] == ["projectId", "name"]
            assert {"content", "newName"} <= set(update["properties"])
            for name in QC_NAMES:
                t, spec = tools[name], TOOL[name]
                walk_flat(name, t.input_schema)
                assert t.output_schema is None, name
                request = spec.get("input_schema")
                if request is None:
                    assert t.input_schema["properties"] == {}, name
                    continue
                model = t.input_schema["properties"]["model"]
                assert model.get("required") == request.get("required"), name
                assert set(model["properties"]) == set(request["properties"]), name
                hints = spec["annotations"]
                # The SDK's ToolAnnotations names the hints in snake case.
                for key, field in (("destructiveHint", "destructive_hint"),
                                   ("idempotentHint", "idempotent_hint")):
                    assert getattr(t.annotations, field) == hints.get(key), (name, key)
                read_only = hints.get("readOnlyHint", hints.get("readOnly", False))
                assert t.annotations.read_only_hint == read_only, name
    run(go())


def test_without_credentials_tools_answer_which_variables_to_set(tmp_path):
    async def go():
        async with session(tmp_path, "--tools", "all") as (s, _):
            text = await error(s, "read_project", {"model": {"projectId": 1}})
            assert "QUANTCONNECT_USER_ID" in text and "QUANTCONNECT_API_TOKEN" in text
            # Argument errors still come first, and local tools still answer.
            text = await error(s, "create_compile", {"model": {}})
            assert '"projectId" is a required property' in text
            version, _ = await ok(s, "read_mcp_server_version")
            assert version["result"]
    run(go())


def test_project_compile_backtest_through_prism(tmp_path):
    """Prism answers 422 to a body its spec refuses (a missing required field, a wrong type),
    so each success here means settle sent what QuantConnect's older spec asks for. The
    endpoints where Prism refuses every request (/files/update, /live/read: spec defects) are
    left to the listener tests."""
    async def go():
        with prism() as url:
            async with session(tmp_path, **credentials(url)) as (s, _):
                created, _ = await ok(s, "create_project", {"name": "settle-qc", "language": "Py"})
                assert created["success"] is True and created["projects"], created
                project_id = created["projects"][0]["projectId"]
                read, _ = await ok(s, "read_project", {"projectId": project_id})
                assert "projects" in read
                await ok(s, "list_projects")
                compiled, _ = await ok(s, "create_compile", {"projectId": project_id})
                assert compiled["state"] in ("InQueue", "BuildSuccess", "BuildError")
                await ok(s, "read_compile",
                         {"projectId": project_id, "compileId": compiled["compileId"]})
                await ok(s, "create_file",
                         {"projectId": project_id, "name": "main.py", "content": "# hi"})
                await ok(s, "read_file", {"projectId": project_id, "name": "main.py"})
                await ok(s, "delete_file", {"projectId": project_id, "name": "main.py"})
                backtest, _ = await ok(s, "create_backtest", {
                    "projectId": project_id, "compileId": compiled["compileId"],
                    "backtestName": "first", "parameters": {"fast": 10, "mode": "long"}})
                assert backtest["success"] is True
                # The old spec's /backtests/read answers a null body (a spec defect): the tool
                # still answers, with QuantConnect's FastMCP shape for non-objects.
                read, _ = await ok(s, "read_backtest", {"projectId": project_id, "backtestId": "b"})
                assert read == {"result": None}
                await ok(s, "update_backtest",
                         {"projectId": project_id, "backtestId": "b", "name": "renamed"})
                await ok(s, "delete_backtest", {"projectId": project_id, "backtestId": "b"})
                await ok(s, "update_project", {"projectId": project_id, "description": "d"})
                await ok(s, "stop_live_algorithm", {"projectId": project_id})
                await ok(s, "delete_project", {"projectId": project_id})
    run(go())


def test_endpoints_the_old_spec_lacks_against_quantconnects_schemas(tmp_path):
    async def go():
        with Listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                calls = {
                    "estimate_optimization_time": {
                        "projectId": 1, "name": "grid",
                        "target": "TotalPerformance.PortfolioStatistics.SharpeRatio",
                        "targetTo": "max",
                        "strategy": "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy",
                        "parameters": [{"name": "fast", "min": 5, "max": 50, "step": 5}]},
                    "read_optimization": {"optimizationId": "O-123"},
                    "list_object_store_files": {"organizationId": "org", "path": "/"},
                    "check_syntax": {"language": "Py",
                                     "files": [{"name": "main.py", "content": "x = 1"}]},
                    "read_backtest_chart": {"projectId": 1, "backtestId": "b", "name": "Strategy Equity",
                                            "count": 100, "start": 1700000000, "end": 1700864000},
                    "patch_file": {"projectId": 1, "patch": "diff --git a/main.py b/main.py"},
                    "update_file_contents": {"projectId": 1, "name": "main.py", "content": "# bye"},
                    "update_file_name": {"projectId": 1, "name": "main.py", "newName": "algo.py"},
                    "lock_project_with_collaborators": {"projectId": 1, "codeSourceId": "ignored"},
                    "read_lean_versions": None,
                }
                for tool, model in calls.items():
                    await ok(s, tool, model)
                    body = check_request(qc.requests[-1], tool)
                    sent = {k: v for k, v in (model or {}).items() if k != "codeSourceId"}
                    assert {k: body[k] for k in sent} == sent, (tool, body)
                # File and lock calls carry AGENT_NAME as codeSourceId, as QuantConnect's do.
                assert body_of(qc, "/patch")["codeSourceId"] == AGENT
                assert body_of(qc, "/lock/acquire")["codeSourceId"] == AGENT

                # The Object Store upload is multipart form data to /object/set.
                await ok(s, "upload_object",
                         {"organizationId": "org", "key": "models/a.json", "objectData": "{\"a\": 1}"})
                upload = qc.requests[-1]
                assert upload["path"] == "/api/v2/object/set"
                fields = multipart_fields(upload)
                assert fields["organizationId"] == (None, b"org")
                assert fields["key"] == (None, b"models/a.json")
                assert fields["objectData"] == ("a.json", b'{"a": 1}')

                # success=false is QuantConnect's answer, returned as data.
                qc.answer("/api/v2/optimizations/read", 200,
                          {"success": False, "errors": ["Optimization not found"]})
                data, _ = await ok(s, "read_optimization", {"optimizationId": "O-x"})
                assert data["success"] is False and data["errors"] == ["Optimization not found"]
                # A non-2xx answer is a tool error with the status and the body; a read is
                # asked three more times first.
                before = len(qc.requests)
                for _ in range(4):
                    qc.answer("/api/v2/optimizations/read", 500, b"upstream exploded")
                text = await error(s, "read_optimization", {"model": {"optimizationId": "O-x"}})
                assert "HTTP 500" in text and "upstream exploded" in text
                assert len(qc.requests) - before == 4
                # A huge answer is cut, says how to page, and the whole is a resource.
                orders = [{"id": i, "symbol": {"value": "ES"}, "quantity": 1, "price": 4500.25}
                          for i in range(5000)]
                sent = {"success": True, "errors": [], "orders": orders, "length": 5000}
                qc.answer("/api/v2/backtests/orders/read", 200, sent)
                data, note = await ok(s, "read_backtest_orders",
                                      {"projectId": 1, "backtestId": "b", "start": 0, "end": 100})
                assert 0 < len(data["orders"]) < 5000 and data["orders"][0]["id"] == 0
                assert "model.start/model.end" in note and "of 5000 items" in note, note
                assert len(json.dumps(data, separators=(",", ":"))) <= 20_000
                whole = await s.read_resource(data["settleFullAnswer"])
                assert json.loads(whole.contents[0].text) == sent
    run(go())


def body_of(qc, suffix):
    return json_body(next(r for r in reversed(qc.requests) if r["path"].endswith(suffix)))


def test_a_malformed_request_never_reaches_quantconnect(tmp_path):
    async def go():
        with Listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                text = await error(s, "create_backtest",
                                   {"model": {"projectId": 1, "compileId": "c"}})
                assert '"backtestName" is a required property' in text
                text = await error(s, "read_compile", {"model": {"projectId": "one", "compileId": "c"}})
                assert "model.projectId" in text
                text = await error(s, "delete_project", {"model": {"projectID": 1}})
                assert "projectID" in text
                text = await error(s, "read_backtest", {"projectId": 1, "backtestId": "b"})
                assert "model" in text
                assert qc.requests == []
    run(go())


def test_the_api_token_never_shows_in_logs_answers_or_the_database(tmp_path):
    """With every log on, through successes, QuantConnect's errors and an unreachable server,
    the token appears in no answer, no log line and no file under $SETTLE_HOME."""
    log = tmp_path / "stderr.log"
    answers = []

    async def go():
        with Listener() as qc:
            env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTCONNECT_")}
            env.update(SETTLE_HOME=str(tmp_path), SETTLE_LOG="trace", **credentials(qc.url))
            params = StdioServerParameters(command=settle_bin(), args=["serve"], env=env)
            with log.open("w") as errlog:
                async with stdio_client(params, errlog=errlog) as (read, write):
                    async with ClientSession(read, write) as s:
                        await s.initialize()
                        for tool, model in (("read_project", {"projectId": 1}),
                                            ("read_optimization", {"optimizationId": "O-1"}),
                                            ("create_compile", {})):
                            answers.append(await s.call_tool(tool, {"model": model}))
                        qc.answer("/api/v2/projects/read", 401, {"success": False, "errors": ["bad token"]})
                        answers.append(await s.call_tool("read_project", {"model": {"projectId": 1}}))
                        sid = (await s.call_tool("create_session", {"title": "t"})).structured_content
                        answers.append(await s.call_tool("get_session", sid))
            # Then the same server pointed at nothing.
            env["QUANTCONNECT_API_BASE_URL"] = "http://127.0.0.1:9/api/v2"
            params = StdioServerParameters(command=settle_bin(), args=["serve"], env=env)
            with log.open("a") as errlog:
                async with stdio_client(params, errlog=errlog) as (read, write):
                    async with ClientSession(read, write) as s:
                        await s.initialize()
                        answers.append(await s.call_tool("read_project", {"model": {"projectId": 1}}))
    run(go())
    assert answers[-1].is_error and answers[3].content
    text = log.read_text()
    assert "reqwest" in text and "read_project" in text, "trace logging was on"
    for a in answers:
        assert TOKEN not in json.dumps(a.model_dump(mode="json")), a
    assert TOKEN not in text
    for f in tmp_path.rglob("*"):
        if f.is_file() and f != log:
            assert TOKEN.encode() not in f.read_bytes(), f
