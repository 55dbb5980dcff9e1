"""The settle MCP server over stdio, driven by the official Python SDK (mcp 2.3.0)."""
import json

import pytest

from conftest import import_cl_daily, run, settle_session

EXPECTED_TOOLS = {
    "create_session", "list_sessions", "get_session", "list_strategies", "inspect_strategy",
    "create_strategy", "update_strategy", "delete_strategy", "backtest_existing_strategy",
    "get_backtest", "setup_optimization", "run_optimization", "get_optimization",
    "wait_for_completion", "cancel_task", "list_symbols", "get_contract_specs",
    "list_templates", "list_datasets", "describe_rule_language", "import_data", "get_backtest_chart",
    "get_backtest_report", "assess_strategy",
    "get_optimization_chart",
}


def walk_flat(tool, schema, path=""):
    """Every property has exactly one JSON type, no combinator or reference anywhere, and every
    object lists its properties and is closed to others, unless it is a declared map (no
    properties, `additionalProperties` given: QuantConnect's free-form Lean commands and
    backtest parameters)."""
    for bad in ("anyOf", "oneOf", "allOf", "$ref", "$defs"):
        assert bad not in schema, f"{tool}: {bad} at {path or 'top level'}"
    assert not isinstance(schema.get("type"), list), f"{tool}: type array at {path or 'top level'}"
    is_map = "properties" not in schema and schema.get("additionalProperties") not in (None, False)
    if schema.get("type") == "object" and not is_map:
        assert isinstance(schema.get("properties"), dict), f"{tool}: {path or 'top level'} has no properties"
        assert schema.get("additionalProperties") is False, f"{tool}: {path or 'top level'} is open"
    for name, prop in schema.get("properties", {}).items():
        assert isinstance(prop.get("type"), str), f"{tool}: {path}.{name} untyped: {prop}"
        walk_flat(tool, prop, f"{path}.{name}")
    if "items" in schema:
        walk_flat(tool, schema["items"], f"{path}[]")


def test_initialize_and_tools_list(tmp_path):
    async def go():
        async with settle_session(tmp_path) as (s, init):
            assert init.server_info.name == "settle"
            assert init.server_info.version  # CARGO_PKG_VERSION
            assert "wait_for_completion" in (init.instructions or "")
            # Without QuantConnect credentials, settle's own tools only (test_quantconnect.py has
            # the toolsets).
            tools = (await s.list_tools()).tools
            assert {t.name for t in tools} == EXPECTED_TOOLS
            for t in tools:
                assert t.input_schema["type"] == "object"
                walk_flat(t.name, t.input_schema)
                # A picture carries no structuredContent (Claude Code would drop the image).
                assert (t.output_schema is None) == t.name.endswith("_chart"), t.name
                assert t.annotations is not None and t.annotations.read_only_hint is not None
            by_name = {t.name: t for t in tools}
            assert by_name["delete_strategy"].annotations.destructive_hint is True
            assert by_name["list_symbols"].annotations.read_only_hint is True
            assert "confirm" in by_name["delete_strategy"].input_schema["required"]

    run(go())


def test_sessions_survive_a_restart(tmp_path):
    async def first():
        async with settle_session(tmp_path) as (s, _):
            made = await s.call_tool("create_session", {"title": "ES ideas"})
            assert not made.is_error
            sid = made.structured_content["session_id"]
            assert sid in made.content[0].text
            for i in range(2):
                await s.call_tool("create_session", {"title": f"extra {i}"})
            page = await s.call_tool("list_sessions", {"limit": 2})
            assert not page.is_error
            body = page.structured_content
            assert [x["title"] for x in body["sessions"]] == ["ES ideas", "extra 0"]
            assert body["pagination"]["has_more"] is True
            rest = await s.call_tool("list_sessions", {"limit": 2, "cursor": body["pagination"]["next_cursor"]})
            assert [x["title"] for x in rest.structured_content["sessions"]] == ["extra 1"]
            assert rest.structured_content["pagination"]["has_more"] is False
            got = await s.call_tool("get_session", {"session_id": sid})
            assert got.structured_content["title"] == "ES ideas"
            assert got.structured_content["strategy_count"] == 0
            return sid

    sid = run(first())

    async def second():
        async with settle_session(tmp_path) as (s, _):
            got = await s.call_tool("get_session", {"session_id": sid})
            assert not got.is_error
            assert got.structured_content["title"] == "ES ideas"
            listed = await s.call_tool("list_sessions", {"status": "all"})
            assert len(listed.structured_content["sessions"]) == 3

    run(second())


def test_symbols_and_contract_specs(tmp_path):
    async def go():
        async with settle_session(tmp_path) as (s, _):
            everything = (await s.call_tool("list_symbols", {})).structured_content
            assert everything["count"] == sum(len(g["symbols"]) for g in everything["sectors"]) > 50
            energy = (await s.call_tool("list_symbols", {"sector": "energy"})).structured_content
            assert [g["sector"] for g in energy["sectors"]] == ["energy"]
            tickers = {x["ticker"] for x in energy["sectors"][0]["symbols"]}
            assert {"CL", "NG"} <= tickers
            assert "ES" not in tickers
            # Public CME facts: E-mini S&P 500 ticks 0.25 points = $12.50, $50 per point.
            es = await s.call_tool("get_contract_specs", {"symbol": "es"})
            assert not es.is_error
            spec = es.structured_content
            assert (spec["ticker"], spec["exchange"]) == ("ES", "CME")
            assert (spec["tick_size"], spec["tick_value"], spec["multiplier"]) == (0.25, 12.5, 50.0)
            assert spec["default_commission"] == 2.5

    run(go())


def test_bad_input_gives_useful_errors_and_server_keeps_serving(tmp_path):
    async def go():
        async with settle_session(tmp_path) as (s, _):
            # Model-fixable: tool errors that say what to change.
            spec = await s.call_tool("get_contract_specs", {"symbol": "ZZZZ"})
            assert spec.is_error and "unknown symbol `ZZZZ`" in spec.content[0].text
            near = await s.call_tool("get_contract_specs", {"symbol": "ESX"})
            assert near.is_error and "did you mean ES, MES?" in near.content[0].text, near.content[0].text
            sector = await s.call_tool("list_symbols", {"sector": "pizza"})
            assert sector.is_error and "energy" in sector.content[0].text
            limit = await s.call_tool("list_sessions", {"limit": 500})
            assert limit.is_error and "between 1 and 100" in limit.content[0].text
            cursor = await s.call_tool("list_sessions", {"cursor": "garbage"})
            assert cursor.is_error and "cursor" in cursor.content[0].text
            missing = await s.call_tool("get_session", {"session_id": "ses_nope"})
            assert missing.is_error and "create_session" in missing.content[0].text
            sid = (await s.call_tool("create_session", {})).structured_content["session_id"]
            wait = await s.call_tool("wait_for_completion",
                                     {"session_id": sid, "operation_id": "op_nope", "task": "strategy_op"})
            assert wait.is_error and "'op_nope' was not found in this session" in wait.content[0].text
            delete = await s.call_tool(
                "delete_strategy", {"session_id": "x", "artifact_id": "y", "confirm": False}
            )
            assert delete.is_error and "confirm: true" in delete.content[0].text
            # Still serving.
            ok = await s.call_tool("create_session", {})
            assert not ok.is_error and ok.structured_content["title"] == "Untitled session"

    run(go())


def test_malformed_arguments_name_the_field(tmp_path):
    """Wrong types, unknown enum values, missing and unknown fields: tool errors (isError, so the
    model sees them) that name the argument, and the server keeps serving."""
    async def go():
        async with settle_session(tmp_path) as (s, _):
            cases = [
                ("list_sessions", {"limit": "many"}, ["limit:", "expected u32"]),
                ("list_sessions", {"status": "sleeping"}, ["status:", "sleeping", "archived"]),
                ("create_strategy", {"session_id": "x", "description": "d", "symbol": "ES", "bar_size": 5},
                 ["bar_size:", "expected a string"]),
                ("create_strategy", {"session_id": "x", "description": "d", "symbol": "ES",
                                     "parameters": [{"key": "fast", "value": "ten"}]},
                 ["parameters[0].value:", "expected f64"]),
                ("create_strategy", {"description": "d", "symbol": "ES"}, ["missing field `session_id`"]),
                ("get_contract_specs", {"symbol": "ES", "colour": "red"}, ["unknown field `colour`"]),
                ("wait_for_completion", {"session_id": "s", "operation_id": "op", "task": "sweep"},
                 ["task:", "strategy_op", "optimization"]),
            ]
            for tool, args, wants in cases:
                res = await s.call_tool(tool, args)
                text = res.content[0].text
                assert res.is_error, (tool, args, text)
                for want in wants:
                    assert want in text, (tool, args, text)
            # Unknown tools stay protocol errors (the client, not the model, is wrong).
            with pytest.raises(Exception, match="tool not found"):
                await s.call_tool("read_backtests", {})
            ok = await s.call_tool("get_contract_specs", {"symbol": "CL"})
            assert not ok.is_error and ok.structured_content["tick_value"] == 10.0

    run(go())


def test_create_a_strategy_and_backtest_it(tmp_path):
    """The AskFutures recipe: create_session -> create_strategy -> wait_for_completion -> get_backtest."""
    import_cl_daily(tmp_path)

    async def go():
        async with settle_session(tmp_path) as (s, _):
            datasets = (await s.call_tool("list_datasets", {})).structured_content
            assert "CL" in json.dumps(datasets)
            sid = (await s.call_tool("create_session", {"title": "CL trend"})).structured_content["session_id"]
            made = await s.call_tool("create_strategy", {
                "session_id": sid, "description": "SMA cross on crude", "symbol": "CL",
                "bar_size": "1d", "template": "sma_cross", "start": "2013-01-01",
            })
            assert not made.is_error, made.content[0].text
            op, art = made.structured_content["operation_id"], made.structured_content["artifact_id"]
            done = await s.call_tool("wait_for_completion",
                                     {"session_id": sid, "operation_id": op, "task": "strategy_op"})
            assert done.structured_content["status"] == "succeeded", done.structured_content
            bt = await s.call_tool("get_backtest", {"session_id": sid, "artifact_id": art})
            assert not bt.is_error, bt.content[0].text
            metrics = bt.structured_content["backtestResults"]
            assert {"tradeCount", "totalPnl", "winRate", "maxDrawdown", "sharpeRatio"} <= set(metrics)
            assert metrics["tradeCount"] > 0
            assert bt.structured_content["trades_total"] == metrics["tradeCount"]

            # A symbol with no local data fails the operation with a message saying what to do.
            gc = await s.call_tool("create_strategy", {
                "session_id": sid, "description": "gold", "symbol": "GC", "template": "sma_cross",
            })
            done = await s.call_tool("wait_for_completion",
                                     {"session_id": sid, "operation_id": gc.structured_content["operation_id"],
                                      "task": "strategy_op"})
            assert done.structured_content["status"] == "failed"
            err = done.structured_content["error"]
            assert "no continuous GC 1d series" in err and "list_datasets" in err, err

    run(go())
