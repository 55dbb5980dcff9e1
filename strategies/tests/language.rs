//! The language description against the language itself: every worked example is read as a
//! tool call would send it, compiled, and backtested on real bars; every indicator and every
//! operator of the model is described; the description stays small enough for one answer.

mod common;

use common::{cl_daily, six_e_minutes};
use serde_json::Value;
use settle_data::{spec, Bars};
use settle_strategies::language::{self, Context};
use settle_strategies::rules::{self, catalog, Arith, Condition};

/// The answer budget of `describe_rule_language`: it goes whole into a model's context.
const MAX_DESCRIPTION_BYTES: usize = 24 * 1024;

fn description() -> Value {
    serde_json::from_str(&language::describe_json()).unwrap()
}

/// The real bars an example runs on: the test data has CL daily and 6E one-minute bars.
fn bars_for(symbol: &str, bar_size: &str, cl: &Bars, six_e: &Bars) -> Bars {
    match (symbol, bar_size) {
        ("CL", "1d") => cl.clone(),
        ("6E", "1m") => six_e.clone(),
        other => panic!("no test bars for {other:?}: give the example CL 1d or 6E 1m"),
    }
}

#[test]
fn every_example_trades_on_real_data() {
    let (cl, six_e) = (cl_daily(), six_e_minutes());
    let examples = language::examples::all();
    assert_eq!(examples.len(), language::examples::FILES.len());
    for e in &examples {
        let rules: Value = serde_json::from_str(e.rules.get()).unwrap();
        for key in ["name", "symbol", "bar_size"] {
            assert!(rules.get(key).is_none(), "{}: rules give `{key}`", e.title);
        }
        let cx = Context::new(&e.title, &e.symbol, &e.bar_size);
        let s =
            language::parse_rules(&rules, &cx).unwrap_or_else(|err| panic!("{}: {err:?}", e.title));
        let c = rules::compile(&s).unwrap_or_else(|err| panic!("{}: {err:?}", e.title));
        let bars = bars_for(&e.symbol, &e.bar_size, &cl, &six_e);
        let sp = spec(&e.symbol).unwrap();
        let sig = rules::signals(&c, &bars, sp).unwrap();
        let r = settle_engine::backtest(&bars, sp, &sig, &rules::to_config(&c)).unwrap();
        println!(
            "{:<45} {} {}: {} trades",
            e.title,
            e.symbol,
            e.bar_size,
            r.trades.len()
        );
        assert!(
            !r.trades.is_empty(),
            "{} made no trade on {} {}",
            e.title,
            e.symbol,
            e.bar_size
        );
    }
}

#[test]
fn the_required_features_each_have_an_example() {
    let all: Vec<String> = language::examples::all()
        .iter()
        .map(|e| e.rules.get().to_string())
        .collect();
    for needle in [
        "\"op\":\"and\"",
        "\"op\":\"or\"",
        "\"op\":\"not\"",
        "\"op\":\"crosses_above\"",
        "\"stop_loss\":{\"unit\":\"atr\"",
        "\"take_profit\"",
        "\"trailing_stop\"",
        "\"op\":\"time_window\"",
        "\"bars_since_entry\"",
        "\"max_bars_held\"",
        "\"entry_order\":{\"type\":\"stop\"",
        "\"risk_sizing\"",
        "{\"param\":",
    ] {
        assert!(
            all.iter().any(|r| r.contains(needle)),
            "no example uses {needle}"
        );
    }
}

#[test]
fn description_fits_one_answer() {
    let text = language::describe_json();
    println!("describe() is {} bytes of compact JSON", text.len());
    assert!(text.len() <= MAX_DESCRIPTION_BYTES, "{} bytes", text.len());
    assert_eq!(text, language::describe_json(), "not deterministic");
    let d = description();
    let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "defaults",
            "examples",
            "fields",
            "indicators",
            "notes",
            "operators",
            "schema"
        ]
    );
    // Examples keep their authors' key order: the operator first.
    assert!(text.contains("\"long_entry\":{\"op\":\"and\",\"conditions\":["));
}

#[test]
fn the_schema_is_valid_and_accepts_every_example() {
    let d = description();
    let validator = jsonschema::validator_for(&d["schema"]).unwrap();
    for e in d["examples"].as_array().unwrap() {
        let errors: Vec<String> = validator
            .iter_errors(&e["rules"])
            .map(|x| x.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", e["title"]);
    }
    let required = d["schema"]["required"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!required.contains(&Value::from("symbol")), "{required:?}");
    // The full schema still requires them, for stored strategies.
    assert!(rules::schema()["required"]
        .as_array()
        .unwrap()
        .contains(&Value::from("symbol")));
    assert!(!validator.is_valid(&serde_json::json!({"long_entry": {"op": "gtt"}})));
}

#[test]
fn every_indicator_is_described_with_its_arguments() {
    let d = description();
    let described = d["indicators"].as_array().unwrap();
    assert_eq!(described.len(), catalog::INDICATORS.len());
    for (spec, got) in catalog::INDICATORS.iter().zip(described) {
        assert_eq!(got["name"], spec.name);
        assert!(!got["about"].as_str().unwrap().is_empty(), "{}", spec.name);
        let args = got["args"].as_object().unwrap();
        assert_eq!(args.len(), spec.args.len(), "{}", spec.name);
        for (name, default) in spec.args {
            assert_eq!(
                args[*name],
                serde_json::json!(default),
                "{} {name}",
                spec.name
            );
        }
        // One output (`value`) and not required are the unstated case.
        let outputs = got
            .get("outputs")
            .cloned()
            .unwrap_or(serde_json::json!(["value"]));
        assert_eq!(outputs, serde_json::json!(spec.outputs), "{}", spec.name);
        let required = got.get("output_required").cloned().unwrap_or(false.into());
        assert_eq!(required, spec.output_required, "{}", spec.name);
    }
    let bbands = &described.iter().find(|i| i["name"] == "bbands").unwrap();
    assert_eq!(
        bbands["args"],
        serde_json::json!({"period": 20.0, "nbdev": 2.0})
    );
    assert_eq!(bbands["reads"], "input (default close)");
    let rsi = &described.iter().find(|i| i["name"] == "rsi").unwrap();
    assert_eq!(rsi["args"], serde_json::json!({"period": null}));
    let fields: Vec<&str> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "open",
            "high",
            "low",
            "close",
            "volume",
            "typical",
            "hl2",
            "bars_since_entry"
        ]
    );
}

/// One JSON value of each condition variant, named by its `op`. The `match` has no wildcard,
/// so a new variant does not compile until it is listed here, and then it must be described.
const CONDITIONS: &[&str] = &[
    r#"{"op": "crosses_above", "left": "close", "right": 1}"#,
    r#"{"op": "crosses_below", "left": "close", "right": 1}"#,
    r#"{"op": "gt", "left": "close", "right": 1}"#,
    r#"{"op": "lt", "left": "close", "right": 1}"#,
    r#"{"op": "ge", "left": "close", "right": 1}"#,
    r#"{"op": "le", "left": "close", "right": 1}"#,
    r#"{"op": "between", "value": "close", "low": 1, "high": 2}"#,
    r#"{"op": "rising", "value": "close", "bars": 1}"#,
    r#"{"op": "falling", "value": "close", "bars": 1}"#,
    r#"{"op": "and", "conditions": []}"#,
    r#"{"op": "or", "conditions": []}"#,
    r#"{"op": "not", "condition": {"op": "gt", "left": "close", "right": 1}}"#,
    r#"{"op": "time_window", "start": "08:30", "end": "09:00"}"#,
    r#"{"op": "weekdays", "days": ["mon"]}"#,
];

fn op_of(c: &Condition) -> &'static str {
    match c {
        Condition::CrossesAbove { .. } => "crosses_above",
        Condition::CrossesBelow { .. } => "crosses_below",
        Condition::Gt { .. } => "gt",
        Condition::Lt { .. } => "lt",
        Condition::Ge { .. } => "ge",
        Condition::Le { .. } => "le",
        Condition::Between { .. } => "between",
        Condition::Rising { .. } => "rising",
        Condition::Falling { .. } => "falling",
        Condition::And { .. } => "and",
        Condition::Or { .. } => "or",
        Condition::Not { .. } => "not",
        Condition::TimeWindow { .. } => "time_window",
        Condition::Weekdays { .. } => "weekdays",
    }
}

fn arith_of(a: &Arith) -> &'static str {
    match a {
        Arith::Add(_) | Arith::Sub(_) | Arith::Mul(_) | Arith::Div(_) => a.operands().0,
    }
}

#[test]
fn every_operator_is_described() {
    let d = description();
    let ops: Vec<(String, String)> = d["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert!(!o["meaning"].as_str().unwrap().is_empty(), "{o}");
            (
                o["op"].as_str().unwrap().into(),
                o["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut want: Vec<(String, String)> = CONDITIONS
        .iter()
        .map(|json| {
            let c: Condition = serde_json::from_str(json).unwrap();
            (op_of(&c).to_string(), "condition".to_string())
        })
        .collect();
    for json in [
        r#"{"add": [1, 2]}"#,
        r#"{"sub": [1, 2]}"#,
        r#"{"mul": [1, 2]}"#,
        r#"{"div": [1, 2]}"#,
    ] {
        let a: Arith = serde_json::from_str(json).unwrap();
        want.push((arith_of(&a).to_string(), "arithmetic".to_string()));
    }
    assert_eq!(ops, want);
    let shape = |op: &str| {
        d["operators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["op"] == op)
            .map(|o| o["shape"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(shape("gt"), r#"{"op":"gt","left":expr,"right":expr}"#);
    assert_eq!(shape("and"), r#"{"op":"and","conditions":[condition,...]}"#);
    assert_eq!(
        shape("rising"),
        r#"{"op":"rising","value":expr,"bars":number}"#
    );
    assert_eq!(shape("not"), r#"{"op":"not","condition":condition}"#);
    assert_eq!(
        shape("weekdays"),
        r#"{"op":"weekdays","days":[string,...]}"#
    );
    assert_eq!(shape("div"), r#"{"div":[expr,...]}"#);
}

#[test]
fn defaults_are_the_ones_applied() {
    let d = description();
    let value = |path: &str| {
        d["defaults"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["path"] == path)
            .map(|x| x["value"].clone())
            .unwrap_or_else(|| panic!("no default for {path}"))
    };
    let s = language::parse_rules(
        &serde_json::json!({"long_entry": {"op": "gt", "left": "close", "right": 1},
            "stop_loss": {"unit": "atr", "value": 2}}),
        &Context::new("t", "CL", "1d"),
    )
    .unwrap();
    let cfg = rules::to_config(&rules::compile(&s).unwrap());
    assert_eq!(value("window"), "last 1 year");
    assert_eq!(cfg.window.to_string(), "last 1 year");
    assert_eq!(value("contracts"), 1.0);
    assert_eq!(cfg.sizing, settle_engine::Sizing::Fixed(1));
    assert_eq!(value("slippage_ticks"), cfg.slippage_ticks);
    assert_eq!(value("entry_order"), serde_json::json!({"type": "market"}));
    assert_eq!(cfg.fill, settle_engine::FillMode::NextOpen);
    assert_eq!(value("atr_period"), 14);
    assert_eq!(cfg.commission_per_side, None);
    assert_eq!(
        value("commission_per_side")["full_size"],
        spec("CL").unwrap().default_commission()
    );
    assert_eq!(
        value("commission_per_side")["micro"],
        spec("MES").unwrap().default_commission()
    );
}

#[test]
fn check_file_reads_rules_like_a_call() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let check = |text: &str| {
        std::fs::write(&path, text).unwrap();
        settle_strategies::check_file(&path).map_err(|e| e.to_string())
    };
    let body = r#""long_entry": {"op": "gt", "left": "close", "right": 1}, "max_bars_held": 3"#;
    let ok = check(&format!(
        r#"{{"name": "n", "symbol": "CL", "bar_size": "1d", {body}}}"#
    ));
    assert!(ok.unwrap().starts_with("strategy `n` is valid: CL 1d bars"));
    // A file has no call to supply the symbol.
    let e = check(&format!(r#"{{"name": "n", "bar_size": "1d", {body}}}"#)).unwrap_err();
    assert_eq!(
        e,
        "/symbol: `symbol` is missing: give it in the rules or as the call's `symbol`"
    );
    let e =
        check(r#"{"name": "n", "symbol": "CL", "bar_size": "1d", "long_entry": {"op": "gt",}}"#)
            .unwrap_err();
    assert!(
        e.starts_with("not valid JSON: ") && e.contains("line 1 column"),
        "{e}"
    );
}
