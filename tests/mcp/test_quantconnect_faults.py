"""How settle's QuantConnect tools behave when QuantConnect's answers are not plain successes,
and how lenient they are with what a client sends, over stdio with the official Python SDK.

The stand-in is the validating listener (qc_mocks.ValidatingListener): it recomputes the auth
header, validates each body against QuantConnect's request schemas and answers what a test
queues, with status, headers and a delay.
"""
import email.utils
import json
import time

from conftest import run
from qc_mocks import ValidatingListener, json_body
from test_quantconnect import AGENT, TOKEN, USER_ID, credentials, error, ok, session

BUDGET = 20_000


def listener():
    return ValidatingListener(USER_ID, TOKEN)


def compact(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def test_lenient_inputs_are_read_as_quantconnects_server_reads_them(tmp_path):
    async def go():
        with listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                # Strings for integers and booleans, an unknown field, and defaults filled.
                data, note = await ok(s, "list_backtests",
                                      {"projectId": "123", "includeStatistics": "true",
                                       "colour": "red"})
                assert json_body(qc.requests[-1]) == {"projectId": 123, "includeStatistics": True}
                assert "Ignored model.colour" in note, note
                await ok(s, "list_backtests", {"projectId": 5})
                assert json_body(qc.requests[-1]) == {"projectId": 5, "includeStatistics": False}
                await ok(s, "read_project", {"projectId": 7})
                assert json_body(qc.requests[-1]) == {"projectId": 7, "start": 0}
                # Booleans for numbers, as Pydantic's lax mode reads them.
                await ok(s, "read_project", {"projectId": True})
                assert json_body(qc.requests[-1]) == {"projectId": 1, "start": 0}
                # An argument beside model is ignored, as QuantConnect's server ignores it.
                res = await s.call_tool("list_backtests", {"model": {"projectId": 5}, "verbose": True})
                assert not res.is_error, res.content[0].text
                assert json_body(qc.requests[-1]) == {"projectId": 5, "includeStatistics": False}
                assert "Ignored argument verbose" in res.structured_content["settleNote"]
                # create_live_algorithm's default dataProviders reaches QuantConnect.
                await ok(s, "create_live_algorithm",
                         {"versionId": "-1", "projectId": 1, "compileId": "c", "nodeId": "n",
                          "brokerage": {"id": "QuantConnectBrokerage"}})
                assert json_body(qc.requests[-1])["dataProviders"] == \
                    {"QuantConnectBrokerage": {"id": "QuantConnectBrokerage"}}
                # The model sent as a JSON string, as some clients do.
                res = await s.call_tool("read_compile",
                                        {"model": json.dumps({"projectId": "9", "compileId": "c"})})
                assert not res.is_error, res.content[0].text
                assert json_body(qc.requests[-1]) == {"projectId": 9, "compileId": "c"}
                # What cannot be read is named, every field, with the type expected.
                count = len(qc.requests)
                text = await error(s, "list_backtests",
                                   {"model": {"projectId": "one", "includeStatistics": "maybe"}})
                assert "2 problems" in text, text
                assert 'model.projectId: expected an integer, got the string "one"' in text
                assert "model.includeStatistics: expected a boolean or null" in text
                assert len(qc.requests) == count, "nothing was sent"
                assert qc.failures == []
    run(go())


def test_reads_are_retried_after_429_and_5xx_and_writes_never(tmp_path):
    async def go():
        with listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                path = "/api/v2/projects/read"
                qc.answer(path, 429, {"errors": ["slow down"]}, headers={"Retry-After": "1"})
                started = time.monotonic()
                data, _ = await ok(s, "read_project", {"projectId": 1})
                assert data["success"] is True
                assert time.monotonic() - started >= 1.0, "Retry-After was honoured"
                assert [r["path"] for r in qc.requests[-2:]] == [path, path]
                # 5xx without Retry-After: backoff, then the answer.
                count = len(qc.requests)
                qc.answer(path, 503, b"")
                qc.answer(path, 502, b"<html>bad gateway</html>")
                await ok(s, "read_project", {"projectId": 1})
                assert len(qc.requests) - count == 3
                # 5xx with Retry-After, in seconds and as an HTTP date: the wait asked for.
                count = len(qc.requests)
                qc.answer(path, 503, b"", headers={"Retry-After": "1"})
                started = time.monotonic()
                await ok(s, "read_project", {"projectId": 1})
                assert time.monotonic() - started >= 1.0 and len(qc.requests) - count == 2
                count = len(qc.requests)
                when = email.utils.formatdate(int(time.time()) + 3, usegmt=True)
                qc.answer(path, 503, b"", headers={"Retry-After": when})
                started = time.monotonic()
                await ok(s, "read_project", {"projectId": 1})
                assert time.monotonic() - started >= 1.0, "the date was waited for"
                assert len(qc.requests) - count == 2
                # A Retry-After longer than settle waits is reported with the wait, not waited
                # out: in seconds, and as a date ten minutes ahead.
                count = len(qc.requests)
                qc.answer(path, 429, {"errors": ["later"]}, headers={"Retry-After": "600"})
                text = await error(s, "read_project", {"model": {"projectId": 1}})
                assert "HTTP 429" in text and len(qc.requests) - count == 1
                assert "asks to wait 600 s before trying again" in text, text
                when = email.utils.formatdate(int(time.time()) + 600, usegmt=True)
                qc.answer(path, 429, {"errors": ["later"]}, headers={"Retry-After": when})
                text = await error(s, "read_project", {"model": {"projectId": 1}})
                waited = int(text.split("asks to wait ")[1].split(" s")[0])
                assert 590 <= waited <= 600, text
                # A write is never repeated: QuantConnect may have done it.
                count = len(qc.requests)
                qc.answer("/api/v2/projects/create", 503, b"")
                text = await error(s, "create_project", {"model": {"name": "p", "language": "Py"}})
                assert "HTTP 503" in text and "(empty body)" in text, text
                assert len(qc.requests) - count == 1
                assert qc.failures == []
    run(go())


def test_timeouts_say_whether_the_outcome_is_known_and_bad_bodies_are_named(tmp_path):
    async def go():
        with listener() as qc:
            async with session(tmp_path, QUANTCONNECT_API_TIMEOUT="1",
                               **credentials(qc.url)) as (s, _):
                qc.answer("/api/v2/projects/create", 200, {"success": True}, delay=3)
                text = await error(s, "create_project", {"model": {"name": "p", "language": "Py"}})
                assert "is unknown" in text and "may have been done" in text, text
                assert "list_projects" in text, text
                qc.answer("/api/v2/projects/read", 200, {"success": True}, delay=3)
                text = await error(s, "read_project", {"model": {"projectId": 1}})
                assert "only reads, so calling it again is safe" in text, text
                qc.answer("/api/v2/projects/read", 200, b"<html>maintenance</html>")
                text = await error(s, "read_project", {"model": {"projectId": 1}})
                assert "is not JSON" in text and "maintenance" in text, text
                qc.answer("/api/v2/projects/read", 200, b"")
                text = await error(s, "read_project", {"model": {"projectId": 1}})
                assert "(empty body)" in text, text
        # Nothing listening: the request never left, and the error says so.
        async with session(tmp_path, **credentials("http://127.0.0.1:9/api/v2")) as (s, _):
            text = await error(s, "create_project", {"model": {"name": "p", "language": "Py"}})
            assert "could not reach QuantConnect" in text and "unknown" not in text, text
    run(go())


def test_map_heavy_answers_fit_the_budget_and_keep_everything_in_a_resource(tmp_path):
    """A ten-year read_backtest (480 rolling windows, 300 closed trades), an optimization of
    1,500 backtests with their 21 positional statistics, and a 117,780-character file."""
    window = {f"M{2015 + i // 12}-{i % 12 + 1:02d}-{i}": {
        "tradeStatistics": {f"s{k}": k * 0.5 for k in range(30)},
        "portfolioStatistics": {f"p{k}": k * 0.25 for k in range(30)}} for i in range(480)}
    trades = [{"symbol": {"value": "ES"}, "entryPrice": 2000.25 + i, "exitPrice": 2001.5 + i,
               "profitLoss": 62.5, "quantity": 1} for i in range(300)]
    backtest = {"success": True, "errors": [], "backtest": {
        "backtestId": "b", "completed": True, "statistics": {"Sharpe Ratio": "1.234"},
        "rollingWindow": window, "totalPerformance": {"closedTrades": trades}}}
    runs = {f"{i:032x}": {"id": f"{i:032x}", "name": f"fast={i}",
                          "statistics": [i + k / 100 for k in range(21)],
                          "parameterSet": {"fast": str(i)}} for i in range(1500)}
    optimization = {"success": True, "errors": [],
                    "optimization": {"optimizationId": "O-1", "backtests": runs}}
    code = "".join(f"# line {i:06d} of the algorithm\n" for i in range(3926))[:117_780]
    files = {"success": True, "errors": [],
             "files": [{"name": "main.py", "content": code}, {"name": "util.py", "content": "x = 1"}]}

    async def go():
        with listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                qc.answer("/api/v2/backtests/read", 200, backtest)
                data, note = await ok(s, "read_backtest", {"projectId": 1, "backtestId": "b"})
                assert compact(data) <= BUDGET, compact(data)
                kept = data["backtest"]
                assert kept["statistics"] == {"Sharpe Ratio": "1.234"} and kept["completed"] is True
                assert 0 < len(kept["rollingWindow"]) < 480
                assert 0 < len(kept["totalPerformance"]["closedTrades"]) < 300
                assert "/backtest/rollingWindow: kept" in note and "of 480 entries" in note, note
                assert "  " not in note, note
                whole = await s.read_resource(data["settleFullAnswer"])
                assert json.loads(whole.contents[0].text) == backtest

                qc.answer("/api/v2/optimizations/read", 200, optimization)
                data, note = await ok(s, "read_optimization", {"optimizationId": "O-1"})
                assert compact(data) <= BUDGET
                kept = data["optimization"]["backtests"]
                assert 0 < len(kept) < 1500 and "of 1500 entries" in note, note
                assert all(len(b["statistics"]) == 21 for b in kept.values()), \
                    "positional statistics are never cut inside"
                assert len(note) < 1500, len(note)

                qc.answer("/api/v2/files/read", 200, files)
                data, note = await ok(s, "read_file", {"projectId": 1})
                assert data["files"][0] == {"name": "main.py"}, "left out whole, not shortened"
                assert data["files"][1] == {"name": "util.py", "content": "x = 1"}
                assert "/files/0/content: left out" in note and "never write a file back" in note
                whole = json.loads((await s.read_resource(data["settleFullAnswer"])).contents[0].text)
                assert whole["files"][0]["content"] == code and len(code) == 117_780
                # An agent that writes back the file as the cut answer holds it sends no content
                # (the cut left it out whole), so the call is refused and nothing is written.
                count = len(qc.requests)
                text = await error(s, "update_file_contents",
                                   {"model": {"projectId": 1, **data["files"][0]}})
                assert '"content" is a required property' in text
                assert len(qc.requests) == count
                assert qc.failures == []
    run(go())


def test_authorize_connection_answers_the_url_then_the_authorization(tmp_path):
    async def go():
        with listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                model = {"brokerage": "tradestation"}
                url = "https://www.quantconnect.com/oauth/authorize?state=abc"
                qc.answer("/api/v2/live/auth0/authorize", 302, b"", headers={"Location": url})
                qc.answer("/api/v2/live/auth0/read", 200,
                          {"success": True, "errors": [], "authorization": {"token": "t"}}, delay=2)
                data, note = await ok(s, "authorize_connection", model)
                assert data["authorizationUrl"] == url and data["authorized"] is False
                assert url in note and "call authorize_connection again" in note, note
                data, _ = await ok(s, "authorize_connection", model)
                assert data["authorization"] == {"token": "t"}, data
                assert [r["path"] for r in qc.requests] == ["/api/v2/live/auth0/authorize",
                                                            "/api/v2/live/auth0/read"]
                # A refused authorize step is an error at once: no wait for the read.
                qc.answer("/api/v2/live/auth0/authorize", 401,
                          {"success": False, "errors": ["Hash doesn't match."]})
                text = await error(s, "authorize_connection", {"model": model})
                assert "HTTP 401" in text, text
                assert len(qc.requests) == 3
    run(go())


def test_authorize_connection_checks_every_status_of_its_two_steps(tmp_path):
    authorize, read = "/api/v2/live/auth0/authorize", "/api/v2/live/auth0/read"

    async def go():
        with listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                # A 2xx with no redirect names no page: the read is waited for at once, as
                # QuantConnect's server does (here: already authorized).
                model = {"brokerage": "tradestation"}
                qc.answer(authorize, 200, {"success": True, "errors": []})
                qc.answer(read, 200, {"success": True, "errors": [], "authorization": {"token": "a"}})
                data, _ = await ok(s, "authorize_connection", model)
                assert data["authorization"] == {"token": "a"}, data
                assert [r["path"] for r in qc.requests] == [authorize, read]
                # A redirect with no Location: an error that says there is no page, no read.
                qc.answer(authorize, 302, b"")
                text = await error(s, "authorize_connection", {"model": model})
                assert "HTTP 302" in text and "no Location" in text, text
                assert [r["path"] for r in qc.requests[2:]] == [authorize]
                # The read step fails: the second call says so, and the third starts anew.
                url = "https://www.quantconnect.com/oauth/authorize?state=def"
                qc.answer(authorize, 302, b"", headers={"Location": url})
                qc.answer(read, 500, {"success": False, "errors": ["internal"]})
                data, _ = await ok(s, "authorize_connection", model)
                assert data["authorizationUrl"] == url
                text = await error(s, "authorize_connection", {"model": model})
                assert "HTTP 500" in text and "start a new one" in text, text
                qc.answer(authorize, 302, b"", headers={"Location": url + "2"})
                qc.answer(read, 200, {"success": True, "errors": []}, delay=2)
                data, _ = await ok(s, "authorize_connection", model)
                assert data["authorizationUrl"] == url + "2", "a new authorization"
                deadline = time.monotonic() + 10  # the read is posted in the background
                while len(qc.requests) < 7 and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert [r["path"] for r in qc.requests[3:]] == [authorize, read, authorize, read]
                assert qc.failures == []
    run(go())


def test_update_file_says_the_content_was_written_when_only_the_rename_failed(tmp_path):
    async def go():
        with listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                model = {"projectId": 1, "name": "main.py", "content": "# new",
                         "newName": "algo.py"}
                qc.answer("/api/v2/files/update", 200, {"success": True, "errors": []})
                qc.answer("/api/v2/files/update", 500, b"")
                text = await error(s, "update_file", {"model": model})
                assert "HTTP 500" in text, text
                assert 'already written to the file under its old name "main.py"' in text, text
                assert '"algo.py" did not succeed' in text, text
                # The rename refused as data (success false): the note says the same.
                qc.answer("/api/v2/files/update", 200, {"success": True, "errors": []})
                qc.answer("/api/v2/files/update", 200,
                          {"success": False, "errors": ["File algo.py already exists"]})
                data, note = await ok(s, "update_file", model)
                assert data["success"] is False and "already written" in note, note
                assert len(qc.requests) == 4 and qc.failures == []
    run(go())


def test_the_latest_version_is_unknown_not_the_running_one(tmp_path):
    async def go():
        with listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                data, note = await ok(s, "read_latest_mcp_server_version")
                running, _ = await ok(s, "read_mcp_server_version")
                assert data["result"] is None and data["checked"] is False
                assert data["running"] == running["result"] and "not checked" in note
                assert qc.requests == []
    run(go())


def test_file_calls_carry_the_agent_name(tmp_path):
    async def go():
        with listener() as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                await ok(s, "update_file", {"projectId": 1, "name": "main.py",
                                            "content": "# new", "newName": "algo.py"})
                bodies = [json_body(r) for r in qc.requests]
                assert bodies == [
                    {"projectId": 1, "name": "main.py", "content": "# new", "codeSourceId": AGENT},
                    {"projectId": 1, "name": "main.py", "newName": "algo.py", "codeSourceId": AGENT}]
                text = await error(s, "update_file", {"model": {"projectId": 1, "name": "main.py"}})
                assert "give content, newName or both" in text
                assert qc.failures == []
    run(go())
