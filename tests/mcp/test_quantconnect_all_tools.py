"""Every QuantConnect tool settle serves, called over stdio with the smallest request its
schema accepts, against `qc_mocks.ValidatingListener`: a stand-in for QuantConnect's API that
refuses what QuantConnect would refuse (a wrong auth hash, an unknown path, a body no tool of
that endpoint accepts) and records each refusal. A tool that sends something wrong fails here
twice: as a tool error (settle gets a 401/404/422) and as a recorded listener failure.

The first tests need no settle binary: they check `minimal_model` and that the listener does
refuse bad requests (without them, a listener that accepts everything would pass the rest).
"""
import json
import time
import urllib.error
import urllib.request
import uuid

import jsonschema
import pytest

from conftest import run
from qc_mocks import (TOOL, TOOLS, ValidatingListener, expected_authorization, minimal_model,
                      multipart_fields, tool_endpoints)
from test_quantconnect import AGENT, TOKEN, USER_ID, credentials, session

# authorize_connection is left out here: it posts two requests over two calls (the authorize
# step, then the read step in the background), so it has its own tests, with every status of
# both steps, in test_quantconnect_faults.py.
LEFT_OUT = {"authorize_connection"}
CALLED = [t["name"] for t in TOOLS if t["name"] not in LEFT_OUT]
# Answered by settle itself (its version; "unknown" for the latest one): no request is sent.
NO_REQUEST = {"read_mcp_server_version", "read_latest_mcp_server_version"}
SCHEMA_TOOLS = [t["name"] for t in TOOLS if t.get("input_schema") is not None]


# --- minimal_model, no server --------------------------------------------------------------

@pytest.mark.parametrize("name", SCHEMA_TOOLS)
def test_minimal_model_is_valid_for_each_tools_own_schema(name):
    schema = TOOL[name]["input_schema"]
    model = minimal_model(schema)
    jsonschema.Draft202012Validator(schema).validate(model)
    assert set(model) == set(schema.get("required", [])), model


def test_minimal_model_covers_every_tool_and_follows_refs_enums_and_unions():
    assert len(TOOLS) == 64 and len(CALLED) == 63
    assert minimal_model(TOOL["create_live_algorithm"]["input_schema"])["brokerage"] == \
        {"id": "QuantConnectBrokerage"}  # anyOf of $refs: the first, its enum'd id
    assert minimal_model(TOOL["enhance_error_message"]["input_schema"]) == \
        {"language": "C#", "error": {"message": "x"}}  # $ref to an enum and to an object
    assert minimal_model(TOOL["read_project"]["input_schema"]) == {}  # nothing required


def test_minimal_model_respects_bounds_and_refuses_what_it_cannot_build():
    schema = {"type": "object", "required": ["n", "f", "s", "xs", "pick", "c", "d", "u"],
              "properties": {
                  "n": {"type": "integer", "minimum": 5},
                  "f": {"type": "number", "exclusiveMinimum": 2},
                  "s": {"type": "string", "minLength": 3},
                  "xs": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/Item"}},
                  "pick": {"oneOf": [{"type": "null"}, {"type": "integer", "maximum": 0}]},
                  "c": {"const": "fixed"},
                  "d": {"type": "string", "default": "given"},
                  "u": {"type": "string", "format": "date-time"}},
              "$defs": {"Item": {"type": "object", "required": ["k"],
                                 "properties": {"k": {"enum": ["a", "b"]}}}}}
    assert minimal_model(schema) == {"n": 5, "f": 3.0, "s": "xxx", "xs": [{"k": "a"}, {"k": "a"}],
                                     "pick": 0, "c": "fixed", "d": "given",
                                     "u": "2024-01-02T03:04:05Z"}
    for impossible in ({"type": "integer", "minimum": 5, "maximum": 3},
                       {"type": "string", "pattern": "^[0-9]+$"},
                       {"$ref": "#/$defs/Missing"}):
        with pytest.raises(ValueError):
            minimal_model(impossible)


# --- the listener refuses what QuantConnect refuses, no server -------------------------------

def post(url, body, *, timestamp=None, authorization=None, content_type="application/json"):
    """POST `body` (JSON, or bytes as they are) with QuantConnect's auth headers, correct
    unless given; returns (status, JSON answer)."""
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": content_type, "Timestamp": timestamp,
        "Authorization": authorization or expected_authorization(USER_ID, TOKEN, timestamp)})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_listener_refuses_a_wrong_hash_and_a_body_missing_a_required_field():
    with ValidatingListener(USER_ID, TOKEN) as qc:
        url = qc.url + "/projects/delete"
        status, answer = post(url, {"projectId": 1},
                              authorization=expected_authorization(USER_ID, "another-token",
                                                                   str(int(time.time()))))
        assert (status, answer) == (401, {"success": False, "errors": ["Hash doesn't match."]})
        assert len(qc.failures) == 1 and "401 POST /api/v2/projects/delete" in qc.failures[0]

        status, answer = post(url, {})
        assert status == 422 and answer["success"] is False
        assert any("'projectId' is a required property" in e for e in answer["errors"]), answer
        assert len(qc.failures) == 2 and qc.failures[1].startswith("422 ")
        assert len(qc.requests) == 2


def test_the_listener_refuses_stale_clocks_unknown_paths_wrong_types_and_bad_uploads():
    with ValidatingListener(USER_ID, TOKEN) as qc:
        stale = str(int(time.time()) - 120)
        assert post(qc.url + "/projects/delete", {"projectId": 1}, timestamp=stale)[0] == 401
        assert post(qc.url + "/projects/delete", {"projectId": 1}, timestamp="1e9")[0] == 401
        assert post(qc.url + "/projects/remove", {"projectId": 1})[0] == 404
        assert post(qc.url + "/projects/delete", {"projectId": "1"})[0] == 422
        assert post(qc.url + "/projects/delete", {"projectId": 1, "projectID": 1})[0] == 422
        assert post(qc.url + "/projects/delete", b"projectId=1",
                    content_type="application/x-www-form-urlencoded")[0] == 422
        # A tool that takes no request must send {}.
        assert post(qc.url + "/account/read", {"organizationId": "o"})[0] == 422
        # multipart without the file part.
        boundary = uuid.uuid4().hex
        form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"organizationId\"\r\n\r\n"
                f"org\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n"
                f"a.json\r\n--{boundary}--\r\n").encode()
        status, answer = post(qc.url + "/object/set", form,
                              content_type=f"multipart/form-data; boundary={boundary}")
        assert status == 422 and "missing form field objectData" in answer["errors"], answer
        assert len(qc.failures) == 8, qc.failures


def test_the_listener_accepts_what_quantconnect_accepts_and_answers_what_is_queued():
    with ValidatingListener(USER_ID, TOKEN) as qc:
        assert post(qc.url + "/projects/delete", {"projectId": 1}) == \
            (200, {"success": True, "errors": []})
        # /files/update is shared: a body valid for either tool is accepted.
        assert post(qc.url + "/files/update", {"projectId": 1, "name": "a.py", "content": ""})[0] == 200
        assert post(qc.url + "/files/update", {"projectId": 1, "name": "a.py", "newName": "b.py"})[0] == 200
        # /projects/read is shared by list_projects ({}) and read_project.
        assert post(qc.url + "/projects/read", {})[0] == 200
        assert post(qc.url + "/projects/read", {"projectId": 3, "start": 0})[0] == 200
        # authorize_connection's first step, a path its catalog entry leaves out.
        assert post(qc.url + "/live/auth0/authorize", {"brokerage": "tradestation"})[0] == 200
        qc.answer("/api/v2/projects/delete", 429, {"success": False, "errors": ["slow down"]},
                  headers={"Retry-After": "1"}, delay=0.2)
        started = time.monotonic()
        request = urllib.request.Request(
            qc.url + "/projects/delete", data=b'{"projectId": 1}', method="POST",
            headers={"Content-Type": "application/json", "Timestamp": str(int(time.time())),
                     "Authorization": expected_authorization(USER_ID, TOKEN, str(int(time.time())))})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 429 and refused.value.headers["Retry-After"] == "1"
        assert time.monotonic() - started >= 0.2
        assert post(qc.url + "/projects/delete", {"projectId": 1})[0] == 200  # queue used up
        assert qc.failures == []
        assert qc.requests[0]["path"] == "/api/v2/projects/delete"
        assert qc.requests[0]["headers"]["Content-Type"] == "application/json"


# --- every tool through settle ---------------------------------------------------------------

def check_sent(name, model, request):
    """What the tool's request must carry beyond passing the listener: every field of the
    model as given (settle sets codeSourceId to AGENT_NAME, as QuantConnect's server does)."""
    if name == "upload_object":
        fields = multipart_fields(request)
        assert fields["organizationId"] == (None, model["organizationId"].encode()), fields
        assert fields["key"] == (None, model["key"].encode()), fields
        assert fields["objectData"][1] == model["objectData"].encode(), fields
        return
    body = json.loads(request["raw"])
    for field, value in (model or {}).items():
        if field != "codeSourceId":
            assert body.get(field) == value, (field, body)
    if "codeSourceId" in (TOOL[name].get("input_schema") or {}).get("properties", {}):
        assert body.get("codeSourceId") == AGENT, body


def test_every_quantconnect_tool_sends_a_request_quantconnect_accepts(tmp_path):
    problems = []

    async def go():
        with ValidatingListener(USER_ID, TOKEN) as qc:
            async with session(tmp_path, **credentials(qc.url)) as (s, _):
                listed = {t.name for t in (await s.list_tools()).tools}
                assert set(CALLED) | {"update_file"} <= listed, set(CALLED) - listed
                for name in CALLED:
                    schema = TOOL[name].get("input_schema")
                    model = None if schema is None else minimal_model(schema)
                    before = len(qc.requests)
                    res = await s.call_tool(name, {} if model is None else {"model": model})
                    sent = qc.requests[before:]
                    text = res.content[0].text if res.content else ""
                    if res.is_error:
                        problems.append(f"{name}({model}): tool error: {text}")
                        continue
                    try:
                        answer = json.loads(text)
                    except ValueError:
                        problems.append(f"{name}: the answer text is not JSON: {text[:200]!r}")
                        continue
                    if name in NO_REQUEST:
                        if sent:
                            problems.append(f"{name}: sent {[r['path'] for r in sent]}, expected nothing")
                        if "result" not in answer:
                            problems.append(f"{name}: no result in {answer}")
                        continue
                    paths = ["/api/v2" + e for e in tool_endpoints(name)]
                    if len(sent) != 1 or sent[0]["path"] not in paths:
                        problems.append(f"{name}: sent {[r['path'] for r in sent]}, expected one "
                                        f"request to one of {paths}")
                        continue
                    if answer.get("success") is not True:
                        problems.append(f"{name}: the listener's answer did not come back: {answer}")
                    try:
                        check_sent(name, model, sent[0])
                    except AssertionError as e:
                        problems.append(f"{name}: {e}")

                # update_file (QuantConnect's documented table has it, its catalog does not):
                # new contents only is one update_file_contents request.
                model = {"projectId": 1, "name": "main.py", "content": "# x"}
                before = len(qc.requests)
                res = await s.call_tool("update_file", {"model": model})
                assert not res.is_error, res.content[0].text
                assert json.loads(res.content[0].text)["success"] is True
                sent = qc.requests[before:]
                assert [r["path"] for r in sent] == ["/api/v2/files/update"]
                body = json.loads(sent[0]["raw"])
                jsonschema.validate(body, TOOL["update_file_contents"]["input_schema"])
                assert body["content"] == "# x" and "newName" not in body, body
                check_sent("update_file_contents", model, sent[0])
            assert not problems, "\n".join(problems)
            assert qc.failures == [], "\n".join(qc.failures)

    run(go())
