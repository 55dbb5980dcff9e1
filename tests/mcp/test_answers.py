"""What the model reads: every answer within the budget by default, the caveats of the data
next to the numbers, and a rule language learned from the tools alone, over stdio with the
official Python SDK on real data (RTL's CL OHLC and HO settlements, Databento's 6EH4 minutes).
"""
import base64
import json
import subprocess

from conftest import SHARED_DATA, call, import_cl_daily, run, settle_bin, settle_session, wait

BUDGET = 8_000
HO_CSV = SHARED_DATA / "converted/rtl/HO_settlement_curve_daily.csv"
SIX_E_DBN = SHARED_DATA / "converted/databento/glbx-mdp3-6EH4-20240101-20240131.ohlcv-1m.dbn.zst"


def size(res) -> int:
    """Bytes of the tool result as it goes over the wire (text block and structuredContent)."""
    return len(json.dumps(res.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":")))


def cli(home, *args):
    subprocess.run([settle_bin(), "--home", str(home), *args], check=True, capture_output=True, timeout=300)


def import_ho_close_only(home):
    """HO's nearest settlement (HO01), closes only, in dollars per gallon: an unadjusted
    close-only continuous series."""
    cli(home, "data", "import", str(HO_CSV), "--symbol", "HO", "--bar", "1d", "--time-col", "date",
        "--close-col", "HO01", "--close-only", "--volume-col", "")


async def measured(s, tool, args, sizes):
    res = await s.call_tool(tool, args)
    assert not res.is_error, f"{tool}: {res.content[0].text}"
    sizes[tool] = max(sizes.get(tool, 0), size(res))
    return res.structured_content


def test_every_answer_with_default_arguments_fits_the_budget(tmp_path):
    import_cl_daily(tmp_path)
    import_ho_close_only(tmp_path)
    sizes = {}

    async def go():
        async with settle_session(tmp_path) as (s, _):
            for tool, args in [("list_symbols", {}), ("list_templates", {}), ("list_datasets", {}),
                               ("get_contract_specs", {"symbol": "ES"}), ("describe_rule_language", {}),
                               ("list_sessions", {})]:
                await measured(s, tool, args, sizes)
            sid = (await measured(s, "create_session", {"title": "budget"}, sizes))["session_id"]
            await measured(s, "get_session", {"session_id": sid}, sizes)
            # The longest history: CL 2013-2023, every trade and every daily mark stored.
            made = await measured(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL", "template": "sma_cross",
                "window": "all"}, sizes)
            done = await measured(s, "wait_for_completion", {
                "session_id": sid, "operation_id": made["operation_id"], "task": "strategy_op"}, sizes)
            assert done["status"] == "succeeded"
            art = made["artifact_id"]
            await measured(s, "list_strategies", {"session_id": sid}, sizes)
            await measured(s, "inspect_strategy", {"session_id": sid, "artifact_id": art}, sizes)
            bt = await measured(s, "get_backtest", {"session_id": sid, "artifact_id": art}, sizes)
            assert bt["trades_total"] > 10 and len(bt["trades"]) == 10 and bt["daily_equity"] == []
            assert bt["equity_points_total"] > 2500
            setup = await measured(s, "setup_optimization", {
                "session_id": sid, "artifact_id": art,
                "parameters": [{"key": "fast", "min": 5, "max": 30, "step": 5},
                               {"key": "slow", "min": 40, "max": 100, "step": 20}]}, sizes)
            kick = await measured(s, "run_optimization",
                                  {"session_id": sid, "optimization_id": setup["optimization_id"]}, sizes)
            done = await wait(s, kick)
            assert done["status"] == "succeeded"
            opt = await measured(s, "get_optimization",
                                 {"session_id": sid, "optimization_id": setup["optimization_id"]}, sizes)
            assert opt["completed"] == 24 and len(opt["rows"]) == 10
            heat = await s.call_tool("get_optimization_chart",
                                     {"session_id": sid, "optimization_id": setup["optimization_id"]})
            assert not heat.is_error and heat.structured_content is None
            image, line = heat.content
            assert base64.b64decode(image.data)[:4] == b"\x89PNG"
            assert line.text.startswith("Heatmap of total_pnl by fast and slow"), line.text
            wrong = await s.call_tool("get_optimization_chart", {
                "session_id": sid, "optimization_id": setup["optimization_id"], "x": "stop"})
            assert wrong.is_error and "`stop` is not swept here; the keys are fast, slow" in wrong.content[0].text
            # The picture: a PNG image block and one line, no structuredContent (Claude Code
            # would drop the image).
            pic = await s.call_tool("get_backtest_chart", {"session_id": sid, "artifact_id": art})
            assert not pic.is_error and pic.structured_content is None
            image, line = pic.content
            png = base64.b64decode(image.data)
            assert image.mime_type == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
            assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (800, 500)
            assert len(png) < 150_000 and "Equity and drawdown of backtest" in line.text
            # Asked for, the curve of 2,700 daily marks comes as at most 250 points.
            curve = await call(s, "get_backtest", {"session_id": sid, "artifact_id": art,
                                                   "include_equity": True})
            assert 200 < len(curve["daily_equity"]) <= 250

    run(go())
    over = {t: n for t, n in sizes.items() if n >= BUDGET}
    assert not over, over
    assert len(sizes) == 16, sorted(sizes)


def test_caveats_stand_next_to_the_numbers(tmp_path):
    """A close-only, unadjusted series: the backtest and the sweep say so in fields and in
    words, and a window beyond the data says what it was clamped to."""
    import_ho_close_only(tmp_path)

    async def go():
        async with settle_session(tmp_path) as (s, _):
            rows = (await call(s, "list_datasets", {}))["datasets"]
            assert [(r["symbol"], r["kind"], r["close_only"], r["adjustment"]) for r in rows] == [
                ("HO", "continuous", True, "none")]
            sid = (await call(s, "create_session", {}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "HO trend", "symbol": "HO", "template": "sma_cross",
                "window": "since 1900"})
            await wait(s, made)
            res = await s.call_tool("get_backtest", {"session_id": sid, "artifact_id": made["artifact_id"]})
            bt, text = res.structured_content, res.content[0].text
            assert (bt["closeOnly"], bt["adjustment"], bt["series"]) == (True, "none", "HO/continuous/1d")
            assert bt["firstBar"] == rows[0]["first"] and bt["lastBar"] == rows[0]["last"]
            assert bt["bars"] > 4000 and bt["backtestResults"]["tradeCount"] > 0
            assert any(n.startswith("close-only data") for n in bt["notes"]), bt["notes"]
            clamp = [n for n in bt["notes"] if "starts before the data" in n]
            assert clamp == [f"window `since 1900-01-01` starts before the data: clamped to the first bar, "
                             f"{rows[0]['first'][:10]}"], bt["notes"]
            assert "Caveats: close-only data" in text and "starts before the data" in text, text
            assert "-0.00" not in text

            # ytd is the data's last year, not today's.
            up = await call(s, "update_strategy", {"session_id": sid, "artifact_id": made["artifact_id"],
                                                   "window": "ytd"})
            await wait(s, up)
            ytd = await call(s, "get_backtest", {"session_id": sid, "artifact_id": up["artifact_id"]})
            last = rows[0]["last"][:10]
            assert ytd["firstBar"][:4] == last[:4]
            assert any(f"counts back from the last bar ({last}), not from today" in n for n in ytd["notes"])

            setup = await call(s, "setup_optimization", {
                "session_id": sid, "artifact_id": made["artifact_id"],
                "parameters": [{"key": "fast", "min": 5, "max": 15, "step": 5}]})
            kick = await call(s, "run_optimization", {"session_id": sid, "optimization_id": setup["optimization_id"]})
            done = await wait(s, kick)
            assert done["optimization"]["closeOnly"] is True
            res = await s.call_tool("get_optimization",
                                    {"session_id": sid, "optimization_id": setup["optimization_id"]})
            opt = res.structured_content
            assert (opt["closeOnly"], opt["adjustment"]) == (True, "none")
            assert opt["firstBar"] == bt["firstBar"] and any("close-only" in n for n in opt["notes"])
            assert "Caveats: close-only data" in res.content[0].text
            settled = await s.call_tool("wait_for_completion", {
                "session_id": sid, "operation_id": kick["operation_id"], "task": "optimization"})
            assert "Caveats: close-only data" in settled.content[0].text, settled.content[0].text

    run(go())


def test_every_example_of_the_rule_language_runs(tmp_path):
    """The model learns the language from describe_rule_language alone: every worked example,
    sent as `rules` with the example's symbol and bar size, builds and trades on real data."""
    import_cl_daily(tmp_path)
    cli(tmp_path, "data", "import", str(SIX_E_DBN))

    async def go():
        async with settle_session(tmp_path) as (s, _):
            guide = await call(s, "describe_rule_language", {})
            assert guide["topic"] == "guide" and "schema" not in guide
            assert {"crosses_above", "and", "not"} <= set(guide["operator_shapes"])
            assert {"rsi", "atr", "vwap"} <= set(guide["indicator_names"])
            ops = (await call(s, "describe_rule_language", {"topic": "operators"}))["operators"]
            assert sorted(o["op"] for o in ops) == sorted(guide["operator_shapes"])
            inds = (await call(s, "describe_rule_language", {"topic": "indicators"}))["indicators"]
            assert next(i for i in inds if i["name"] == "rsi")["args"] == {"period": None}  # required
            examples = (await call(s, "describe_rule_language", {"topic": "examples"}))["examples"]
            assert [e["title"] for e in examples] == guide["example_titles"] and len(examples) >= 9
            schema = (await call(s, "describe_rule_language", {"topic": "schema"}))["schema"]
            assert "long_entry" in schema["properties"]
            whole = await s.read_resource("settle://rule-language")
            assert json.loads(whole.contents[0].text)["examples"][0]["title"] == examples[0]["title"]

            sid = (await call(s, "create_session", {"title": "examples"}))["session_id"]
            for e in examples:
                args = {"session_id": sid, "description": e["title"], "symbol": e["symbol"],
                        "bar_size": e["bar_size"], "rules": e["rules"], "window": "all"}
                if e["symbol"] == "6E":
                    args["contract"] = "6EH4"
                made = await call(s, "create_strategy", args)
                done = await wait(s, made)
                assert done["status"] == "succeeded", (e["title"], done["error"])
                assert done["strategy"]["backtestResults"]["tradeCount"] > 0, e["title"]
                if "atr" in json.dumps(e["rules"]) and "atr_period" not in e["rules"]:
                    detail = await call(s, "inspect_strategy", {"session_id": sid,
                                                                "artifact_id": made["artifact_id"]})
                    filled = {d["path"]: d["value"] for d in detail["filled_defaults"]}
                    assert filled.get("/atr_period") == 14, (e["title"], filled)

            # Rules and arguments that disagree, and rules that do not parse: errors naming the
            # JSON path and what would be valid.
            base = {"session_id": sid, "description": "x", "symbol": "CL"}
            clash = await s.call_tool("create_strategy", {**base, "rules": {**examples[0]["rules"], "symbol": "ES"}})
            assert clash.is_error and 'the rules say "ES" but the call says "CL"' in clash.content[0].text
            bad = await s.call_tool("create_strategy", {**base, "rules": {"long_entry": {"op": "gtt"}}})
            assert bad.is_error and "rules/long_entry/op" in bad.content[0].text, bad.content[0].text
            text = await s.call_tool("create_strategy", {**base, "rules_json": '{"long_entry": '})
            assert text.is_error and "rules_json" in text.content[0].text and "line 1" in text.content[0].text

    run(go())


def test_import_data_reads_only_the_data_directory(tmp_path):
    """import_data takes a path inside a `--data-dir` (repeatable; default $SETTLE_HOME/inbox): a DBN file
    alone, a CSV with its columns, each imported as an operation of the session; anything
    outside, absolute, climbing or linked is refused at once and nothing is read; a file that
    does not parse fails its operation and leaves the store as it was."""
    inbox, more = tmp_path / "files", tmp_path / "more"
    inbox.mkdir()
    (more / "rtl").mkdir(parents=True)
    (more / "rtl/ho.csv").write_bytes(HO_CSV.read_bytes())
    (inbox / "6e.dbn.zst").write_bytes(SIX_E_DBN.read_bytes())
    (tmp_path / "secret.csv").write_text("time,close\n2024-01-02,1\n")
    (inbox / "link.csv").symlink_to(tmp_path / "secret.csv")

    async def go():
        async with settle_session(tmp_path, "--data-dir", str(inbox), "--data-dir", str(more)) as (s, _):
            sid = (await call(s, "create_session", {"title": "imports"}))["session_id"]
            kick = await call(s, "import_data", {"session_id": sid, "path": "6e.dbn.zst"})
            assert kick["task"] == "import" and kick["session_id"] == sid
            dbn = await wait(s, kick)
            assert dbn["status"] == "succeeded", dbn
            assert [(d["symbol"], d["kind"], d["contract"], d["bar_size"]) for d in dbn["imported"]] == [
                ("6E", "contract", "6EH4", "1m")]
            ho = await wait(s, await call(s, "import_data", {
                "session_id": sid, "path": "rtl/ho.csv", "symbol": "HO", "bar_size": "1d",
                "time_col": "date", "close_col": "HO01", "close_only": True, "volume_col": ""}))
            (row,) = ho["imported"]
            assert (row["symbol"], row["close_only"], row["rows"]) == ("HO", True, 4566)
            listed = (await call(s, "list_datasets", {}))["datasets"]
            assert {(d["symbol"], d["kind"]) for d in listed} == {("6E", "contract"), ("HO", "continuous")}
            for path, why in [("../secret.csv", "climbs out"), (str(tmp_path / "secret.csv"), "absolute"),
                              ("link.csv", "symbolic link"), ("missing.csv", "does not exist")]:
                res = await s.call_tool("import_data", {"session_id": sid, "path": path, "symbol": "ES"})
                assert res.is_error and why in res.content[0].text, (path, res.content[0].text)
                assert f"{inbox}, {more}" in res.content[0].text
            bad = await wait(s, await call(s, "import_data", {
                "session_id": sid, "path": "rtl/ho.csv", "symbol": "HO", "bar_size": "1d"}))
            assert bad["status"] == "failed" and "ho.csv" in bad["error"], bad
            assert bad["imported"] is None
            assert len((await call(s, "list_datasets", {}))["datasets"]) == 2  # nothing lost, nothing added
            other = await s.call_tool("import_data", {"session_id": "ses_nope", "path": "6e.dbn.zst"})
            assert other.is_error and "ses_nope" in other.content[0].text

    run(go())


def test_pictures_and_the_report_are_files_and_resources(tmp_path):
    """Every picture of a backtest comes inline and as the file its line names; the report is
    written to the path the answer gives, and the same page is a text/html resource whose
    numbers are the backtest's."""
    import_cl_daily(tmp_path)

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {"title": "pictures"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL", "template": "sma_cross",
                "window": "all"})
            assert (await call(s, "wait_for_completion", {
                "session_id": sid, "operation_id": made["operation_id"],
                "task": "strategy_op"}))["status"] == "succeeded"
            art = made["artifact_id"]
            bt = await call(s, "get_backtest", {"session_id": sid, "artifact_id": art})
            bt_id = bt["backtest_id"]
            for chart, words in [("equity", "Equity and drawdown"), ("monthly", "Net P&L by month"),
                                 ("distribution", "Distribution of trade net P&L")]:
                pic = await s.call_tool("get_backtest_chart",
                                        {"session_id": sid, "artifact_id": art, "chart": chart})
                assert not pic.is_error and pic.structured_content is None, pic.content
                image, line = pic.content
                png = base64.b64decode(image.data)
                assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 150_000
                assert line.text.startswith(f"{words} of backtest {bt_id}"), line.text
                saved = tmp_path / "charts" / f"{bt_id}-{chart}.png"
                assert f"Saved as {saved}." in line.text and saved.read_bytes() == png
            bad = await s.call_tool("get_backtest_chart",
                                    {"session_id": sid, "artifact_id": art, "chart": "candles"})
            assert bad.is_error

            rep = await call(s, "get_backtest_report", {"session_id": sid, "artifact_id": art})
            assert rep["path"] == str(tmp_path / "reports" / f"{bt_id}.html")
            assert rep["uri"] == f"settle://backtests/{bt_id}/report"
            page = (tmp_path / "reports" / f"{bt_id}.html").read_text()
            assert rep["bytes"] == len(page.encode())
            assert f"<h2>Trades ({bt['trades_total']})</h2>" in page
            assert f"<tr><th>tradeCount</th><td>{bt['backtestResults']['tradeCount']}</td></tr>" in page
            assert page.count('src="data:image/png;base64,') == 3
            listed = await s.list_resources()
            mine = [r for r in listed.resources if str(r.uri) == rep["uri"]]
            assert len(mine) == 1 and mine[0].mime_type == "text/html"
            read = await s.read_resource(rep["uri"])
            (content,) = read.contents
            assert content.mime_type == "text/html" and content.text == page
            try:
                await s.read_resource("settle://backtests/bt_nope/report")
                raise AssertionError("an unknown backtest's report was read")
            except Exception as e:  # the SDK raises the JSON-RPC error
                assert "bt_nope" in str(e)
            wrong = await s.call_tool("get_backtest_report", {"session_id": sid, "artifact_id": "art_nope"})
            assert wrong.is_error and "art_nope" in wrong.content[0].text

    run(go())


def test_the_verdict_over_mcp_is_the_clis_and_counts_the_ledger(tmp_path):
    """assess_strategy gives `settle assess --json`'s verdict and reasons, word for word, with
    the session's versions on the symbol and bar size counted as trials."""
    import_cl_daily(tmp_path)

    def cli_assess(trials):
        out = subprocess.run([settle_bin(), "--home", str(tmp_path), "assess", "--template", "sma_cross",
                              "--symbol", "CL", "--window", "all", "--trials", str(trials), "--json"],
                             check=True, capture_output=True, text=True, timeout=300)
        return json.loads(out.stdout)

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {"title": "verdict"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL", "template": "sma_cross",
                "window": "all"})
            await wait(s, {**made, "session_id": sid, "task": "strategy_op"})
            res = await s.call_tool("assess_strategy", {"session_id": sid, "artifact_id": made["artifact_id"]})
            assert not res.is_error, res.content[0].text
            assert size(res) < 8_000, size(res)
            first = res.structured_content
            cli = cli_assess(1)
            assert first["trials"] == 1 and first["trades"] == cli["evidence"]["trades"]
            assert first["verdict"] == cli["verdict"]
            assert first["reasons"] == [{"check": r["check"], "passed": r["passed"], "text": r["text"]}
                                        for r in cli["reasons"]]
            # The whole assessment behind the answer is the CLI's, byte for byte: the same
            # result hash (SHA-256 of its JSON) and the same evidence.
            text = (await s.read_resource(first["evidence_uri"])).contents[0].text
            whole = json.loads(text)
            assert first["manifest"]["result_hash"] == whole["manifest"]["resultHash"]
            assert whole["manifest"]["resultHash"] == cli["manifest"]["resultHash"]
            assert whole["manifest"]["assessment"] == {"trials": 1, "pbo": None}
            assert {k: v for k, v in whole.items() if k != "manifest"} == \
                   {k: v for k, v in cli.items() if k != "manifest"}
            saved = tmp_path / "assessment.json"
            saved.write_text(text)
            rerun = subprocess.run([settle_bin(), "--home", str(tmp_path), "rerun", str(saved)],
                                   capture_output=True, text=True, timeout=300)
            assert rerun.stdout.strip() == f"identical (result hash {cli['manifest']['resultHash']})", \
                rerun.stdout + rerun.stderr
            # A second version on CL daily is a second trial.
            other = await call(s, "create_strategy", {
                "session_id": sid, "description": "faster", "symbol": "CL", "template": "sma_cross",
                "window": "all", "parameters": [{"key": "fast", "value": 5}]})
            await wait(s, {**other, "session_id": sid, "task": "strategy_op"})
            again = await call(s, "assess_strategy", {"session_id": sid, "artifact_id": made["artifact_id"]})
            assert again["trials"] == 2
            luck = next(r["text"] for r in again["reasons"] if "Deflated" in r["text"])
            assert luck == next(r["text"] for r in cli_assess(2)["reasons"] if "Deflated" in r["text"])
    run(go())


def test_sweep_guards_over_mcp_are_the_clis(tmp_path):
    """setup_optimization's holdout and walk_forward run settle sweep's guards: the same
    Deflated Sharpe, PBO, held-out and stitched walk-forward results as `settle sweep --json`."""
    import_cl_daily(tmp_path)
    grid = ["--param", "fast=5:20:5", "--param", "slow=40:60:10"]

    def cli_sweep(*plan):
        out = subprocess.run([settle_bin(), "--home", str(tmp_path), "sweep", "--template", "sma_cross",
                              "--symbol", "CL", "--window", "all", *grid, "--objective", "totalPnl:max",
                              *plan, "--json"], check=True, capture_output=True, text=True, timeout=300)
        return json.loads(out.stdout)["overfitting"]

    held_id = []

    async def sweep(s, sid, art, **plan):
        setup = await call(s, "setup_optimization", {
            "session_id": sid, "artifact_id": art, **plan,
            "parameters": [{"key": "fast", "min": 5, "max": 20, "step": 5},
                           {"key": "slow", "min": 40, "max": 60, "step": 10}]})
        kick = await call(s, "run_optimization", {"session_id": sid, "optimization_id": setup["optimization_id"]})
        assert (await wait(s, kick))["status"] == "succeeded"
        held_id.append(setup["optimization_id"])
        res = await s.call_tool("get_optimization", {"session_id": sid,
                                                     "optimization_id": setup["optimization_id"]})
        # Over the 8 KB of default answers by the out-of-sample metrics asked for.
        assert not res.is_error and size(res) < 10_000, size(res)
        return res.structured_content

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {"title": "guards"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL", "template": "sma_cross",
                "window": "all"})
            await wait(s, {**made, "session_id": sid, "task": "strategy_op"})
            art = made["artifact_id"]

            held = await sweep(s, sid, art, holdout="20%")
            cli = cli_sweep("--holdout", "20%")
            assert held["deflated_sharpe_ratio"] == cli["deflatedSharpe"]["deflatedSharpe"]
            assert held["pbo"] == cli["pbo"]["pbo"]
            assert held["holdout_out_of_sample"]["totalPnl"] == cli["holdout"]["outOfSampleMetrics"]["totalPnl"]
            assert "guards_not_computed" not in held

            walked = await sweep(s, sid, art, walk_forward="train=750,test=250")
            cli = cli_sweep("--walk-forward", "train=750,test=250")
            assert walked["walk_forward_out_of_sample"]["totalPnl"] == cli["walkForward"]["stitchedMetrics"]["totalPnl"]
            assert walked["pbo"] == cli["pbo"]["pbo"]

            # The verdict on the sweep's best: the CLI's for those parameters and the ledger's
            # trials (this version, the other sweep's 12 rows and this one's), plus the PBO.
            res = await call(s, "assess_strategy", {"session_id": sid, "artifact_id": art,
                                                    "optimization_id": held_id[0]})
            best = {p["key"]: p["value"] for p in held["best_result"]["parameters"]}
            out = subprocess.run([settle_bin(), "--home", str(tmp_path), "assess", "--template", "sma_cross",
                                  "--symbol", "CL", "--window", "all", "--param", f"fast={best['fast']}",
                                  "--param", f"slow={best['slow']}", "--trials", str(res["trials"]), "--json"],
                                 check=True, capture_output=True, text=True, timeout=300)
            cli = json.loads(out.stdout)
            assert res["trials"] == 1 + 12 + 12
            pbo = [r for r in res["reasons"] if r["text"].startswith("PBO ")]
            assert len(pbo) == 1 and f"PBO {held['pbo']:.3f}" in pbo[0]["text"], res["reasons"]
            rest = [r for r in res["reasons"] if not r["text"].startswith("PBO ")]
            assert rest == [{"check": r["check"], "passed": r["passed"], "text": r["text"]}
                            for r in cli["reasons"]]

            bad = await s.call_tool("setup_optimization", {
                "session_id": sid, "artifact_id": art, "holdout": "120%",
                "parameters": [{"key": "fast", "min": 5, "max": 20, "step": 5}]})
            assert bad.is_error and "below 100%" in bad.content[0].text, bad.content[0].text
    run(go())


def test_a_backtest_answer_carries_its_manifest_and_reruns_identical(tmp_path):
    """get_backtest names the hashes of its inputs and result; the manifest resource holds
    the whole, equal to the CLI's for the same strategy (inputs alike; the MCP run keeps the
    daily curve only, which its engine options say), and `settle rerun` on it proves it."""
    import_cl_daily(tmp_path)

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {"title": "manifest"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL", "template": "sma_cross",
                "window": "all", "parameters": [{"key": "fast", "value": 12}]})
            done = await wait(s, {**made, "task": "strategy_op"})
            assert done["status"] == "succeeded"
            bt = await call(s, "get_backtest", {"session_id": sid, "artifact_id": made["artifact_id"]})
            res = await s.read_resource(bt["manifest"]["uri"])
            return bt, res.contents[0].text

    bt, text = run(go())
    # The Sharpe rests on one daily return per session date of CL's 2,674.
    assert bt["returnDays"] == 2674 == bt["bars"]
    brief, whole = bt["manifest"], json.loads(text)["manifest"]
    assert brief["uri"] == f"settle://backtests/{bt['backtest_id']}/manifest"
    for short, key in [("settle_version", "settleVersion"), ("spec_hash", "specHash"),
                       ("strategy_hash", "strategyHash"), ("result_hash", "resultHash")]:
        assert brief[short] == whole[key], short
    assert (brief["series"], brief["series_fingerprint"]) == (whole["series"]["key"], whole["series"]["fingerprint"])
    out = subprocess.run([settle_bin(), "--home", str(tmp_path), "backtest", "--template", "sma_cross",
                          "--symbol", "CL", "--window", "all", "--param", "fast=12", "--json"],
                         check=True, capture_output=True, text=True, timeout=300)
    cli_m = json.loads(out.stdout)["manifest"]
    for key in ("series", "specHash", "strategy", "strategyHash", "window", "commissionPerSide",
                "slippageTicks", "settleVersion"):
        assert whole[key] == cli_m[key], key
    assert whole["engine"]["equityCurve"] == "daily" and cli_m["engine"]["equityCurve"] == "perBar"
    assert whole["strategy"]["parameters"][0]["value"] == 12.0
    saved = tmp_path / "manifest.json"
    saved.write_text(text)
    rerun = subprocess.run([settle_bin(), "--home", str(tmp_path), "rerun", str(saved)],
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == f"identical (result hash {whole['resultHash']})"


def test_a_sweep_manifest_resource_is_the_cli_sweep_byte_for_byte(tmp_path):
    """A finished sweep's manifest resource (listed with its rows) is the document `settle
    sweep --json` prints for the grid, objective and guards it records, byte for byte, and
    `settle rerun` on it proves it."""
    import_cl_daily(tmp_path)

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {"title": "sweep manifest"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL", "template": "sma_cross",
                "window": "all"})
            await wait(s, {**made, "task": "strategy_op"})
            setup = await call(s, "setup_optimization", {
                "session_id": sid, "artifact_id": made["artifact_id"],
                "parameters": [{"key": "fast", "min": 5, "max": 20, "step": 5},
                               {"key": "slow", "min": 30, "max": 50, "step": 20}]})
            opt = setup["optimization_id"]
            done = await wait(s, await call(s, "run_optimization", {"session_id": sid, "optimization_id": opt}))
            assert done["status"] == "succeeded"
            listed = {r.uri for r in (await s.list_resources()).resources}
            uri = f"settle://optimizations/{opt}/manifest"
            assert uri in listed
            res = await s.read_resource(uri)
            return res.contents[0].text

    text = run(go())
    m = json.loads(text)["manifest"]
    sweep = m["sweep"]
    assert sweep["grid"] == ["fast=5,10,15,20", "slow=30,50"]
    assert (sweep["objective"], sweep["top"]) == ("totalPnl:max", 10)
    params = [a for g in sweep["grid"] for a in ("--param", g)]
    out = subprocess.run([settle_bin(), "--home", str(tmp_path), "sweep", "--template", "sma_cross",
                          "--symbol", "CL", "--window", "all", *params, "--objective", sweep["objective"],
                          "--pbo-blocks", str(sweep["guards"]["pboBlocks"]), "--json"],
                         check=True, capture_output=True, text=True, timeout=300)
    assert out.stdout == text + "\n"
    saved = tmp_path / "sweep.json"
    saved.write_text(text)
    rerun = subprocess.run([settle_bin(), "--home", str(tmp_path), "rerun", str(saved)],
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == f"identical (result hash {m['resultHash']})"


def test_bad_sweeps_and_empty_strategies_get_clear_answers_and_never_nan(tmp_path):
    """A sweep of one combination, a walk-forward longer than the window and a strategy that
    never trades: each answer says what is missing and how many are needed, and no answer
    holds NaN (JSON has none; a model would read it as a number)."""
    import_cl_daily(tmp_path)
    texts = []

    async def go():
        async with settle_session(tmp_path) as (s, _):
            sid = (await call(s, "create_session", {"title": "bad input"}))["session_id"]
            made = await call(s, "create_strategy", {
                "session_id": sid, "description": "SMA cross", "symbol": "CL", "template": "sma_cross",
                "window": "all"})
            await wait(s, {**made, "task": "strategy_op"})
            art = made["artifact_id"]

            async def optimize(**plan):
                setup = await call(s, "setup_optimization", {"session_id": sid, "artifact_id": art, **plan})
                kick = await call(s, "run_optimization",
                                  {"session_id": sid, "optimization_id": setup["optimization_id"]})
                done = await wait(s, kick)
                res = await s.call_tool("get_optimization",
                                        {"session_id": sid, "optimization_id": setup["optimization_id"]})
                texts.append(res.content[0].text)
                return done, res.structured_content

            done, one = await optimize(parameters=[{"key": "fast", "min": 10, "max": 10, "step": 1}])
            assert done["status"] == "succeeded" and one["completed"] == 1
            assert any("at least 2" in line for line in one["guards_not_computed"]), one["guards_not_computed"]

            # 2,674 trading dates cannot hold a 2,000-date training span and a 1,000-date test.
            done, long = await optimize(walk_forward="train=2000,test=1000",
                                        parameters=[{"key": "fast", "min": 5, "max": 20, "step": 5}])
            said = json.dumps(done) + json.dumps(long)
            assert "walk_forward" in said and "2674" in said.replace(",", ""), said[:2000]

            # The last ten days of 2013: SMA(10/30) has no cross yet, so no trade.
            quiet = await call(s, "create_strategy", {
                "session_id": sid, "description": "no trades", "symbol": "CL", "template": "sma_cross",
                "start": "2013-01-02", "end": "2013-01-15"})
            await wait(s, {**quiet, "task": "strategy_op"})
            bt = await s.call_tool("get_backtest", {"session_id": sid, "artifact_id": quiet["artifact_id"]})
            texts.append(bt.content[0].text)
            assert bt.structured_content["backtestResults"]["tradeCount"] == 0
            assert bt.structured_content["backtestResults"]["winRate"] is None
            verdict = await s.call_tool("assess_strategy", {"session_id": sid, "artifact_id": quiet["artifact_id"]})
            texts.append(verdict.content[0].text)
            v = verdict.structured_content
            assert v["verdict"] == "insufficient" and "needs at least 30" in v["reasons"][0]["text"]
            evidence = (await s.read_resource(v["evidence_uri"])).contents[0].text
            texts.append(evidence)

    run(go())
    for text in texts:
        assert "NaN" not in text and "Infinity" not in text, text[:500]
