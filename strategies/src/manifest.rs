//! What a result was computed from, written into the result itself under the key `manifest`,
//! so a figure can be proven months later: the settle version, the series and its content
//! fingerprint (and its sources' for a front month built by settle), the contract spec, the
//! strategy's canonical JSON and its hash, the resolved window, the costs and engine options
//! applied, and a hash of the result.
//!
//! [`rerun`] recomputes a backtest, an assessment or a sweep from its manifest and says either
//! that it is identical or which inputs changed and the first result field that differs; it
//! backs `settle rerun FILE`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use settle_data::front_month::SourceSeries;
use settle_data::store::{self, Store};
use settle_data::{Bars, ContractSpec};
use settle_engine::{BacktestConfig, Stamp};

use crate::assess::{assess, Assessment};
use crate::guards::GuardPlan;
use crate::rules::{self, Strategy};
use crate::run::{self, Ran, RunError};

/// The version of settle that computed a result.
pub const SETTLE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What kind of result a manifest describes; [`rerun`] recomputes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// One backtest (`settle backtest --json`, `get_backtest`).
    Backtest,
    /// A parameter sweep's summary and guards (`settle sweep --json`, `get_optimization`).
    Sweep,
    /// A robustness verdict (`settle assess --json`, `assess_strategy`).
    Assessment,
}

/// The inputs of a result and a hash of the result, under the key `manifest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// What the hash covers.
    pub kind: Kind,
    /// The settle that computed it.
    pub settle_version: String,
    /// The series traded.
    pub series: SeriesInputs,
    /// The contract spec applied (tick size and value, sessions): its JSON's hash, so a change
    /// to the catalog shows.
    pub spec_hash: String,
    /// The strategy with every parameter and override filled in, as canonical JSON (keys
    /// sorted, no spaces): compiling it again gives the same rules.
    pub strategy: Value,
    /// SHA-256 of [`Manifest::strategy`]'s text, 16 hex digits.
    pub strategy_hash: String,
    /// The window as asked for and as resolved on this series.
    pub window: ResolvedWindow,
    /// The costs charged: dollars per contract per side and ticks of slippage per fill.
    pub commission_per_side: f64,
    /// Ticks of slippage against every fill.
    pub slippage_ticks: u32,
    /// Every engine option in force (fills, exits, sizing, capital, risk-free rate).
    pub engine: BacktestConfig,
    /// For an assessment: the trials its Deflated Sharpe counted and the PBO it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<AssessmentInputs>,
    /// For a sweep: the grid, the objective and constraints, and the guards run. The window,
    /// strategy and costs above are the swept strategy's with its own parameter values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepInputs>,
    /// SHA-256 of the result's JSON without its manifest, 16 hex digits. For a backtest it is
    /// the hash of the full result (every trade and the equity curve), also when the answer
    /// that carries the manifest shows only part of it.
    pub result_hash: String,
}

/// The series a result was computed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeriesInputs {
    /// Store key, e.g. `CL/continuous/1d`.
    pub key: String,
    /// The content fingerprint of its columns (the store catalog's).
    pub fingerprint: String,
    /// Bars in the whole series.
    pub rows: usize,
    /// Back-adjustment (`none`, `difference`, `ratio`).
    pub adjustment: String,
    /// For a front month settle built: the per-contract series read, with their fingerprints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceSeries>,
    /// For a front month settle built: the roll rule (`expiry:8`, `volume`, `calendar:FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roll: Option<String>,
}

/// What an assessment takes besides the backtest: how many strategies were tried, and the
/// PBO of the sweep it was picked from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssessmentInputs {
    /// Strategies tried to find this one (the Deflated Sharpe's N).
    pub trials: usize,
    /// The PBO of the sweep it was the best of, if it was.
    pub pbo: Option<f64>,
}

/// What a sweep varied and how it judged its combinations, as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SweepInputs {
    /// Each swept parameter as `KEY=MIN:MAX:STEP` or `KEY=V1,V2,...`, the slowest first.
    pub grid: Vec<String>,
    /// The metric ranked and its direction, e.g. `sharpeRatio:max`.
    pub objective: String,
    /// The constraints the best must meet, e.g. `tradeCount>=30`.
    pub constraints: Vec<String>,
    /// The overfitting guards run (holdout, walk-forward, PBO blocks); `None` without guards.
    pub guards: Option<GuardPlan>,
    /// How many of the best combinations the result lists.
    #[serde(default = "default_top")]
    pub top: usize,
}

fn default_top() -> usize {
    crate::sweep_document::DEFAULT_TOP
}

/// A window as asked for and the bars it resolved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolvedWindow {
    /// As asked, e.g. `last 2 years` (resolved against the series' last date, never today).
    pub asked: String,
    /// The first bar traded.
    pub first_bar: Stamp,
    /// The last bar traded.
    pub last_bar: Stamp,
    /// Bars inside the window.
    pub bars: usize,
}

/// 16 hex digits of the SHA-256 of `bytes`: short enough to read, long enough that two
/// different results never share one by chance.
pub fn hash_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Canonical JSON of `value`: object keys sorted (serde_json's maps are ordered by key), no
/// whitespace.
pub fn canonical<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The series' fingerprint: the catalog's when it was loaded from the store, else computed.
fn series_fingerprint(bars: &Bars) -> String {
    bars.meta
        .fingerprint
        .clone()
        .unwrap_or_else(|| store::fingerprint(bars))
}

fn series_inputs(bars: &Bars) -> SeriesInputs {
    let recipe = bars.meta.recipe.as_ref();
    SeriesInputs {
        key: bars.meta.key(),
        fingerprint: series_fingerprint(bars),
        rows: bars.len(),
        adjustment: bars.meta.adjustment.clone(),
        sources: recipe.map(|r| r.sources.clone()).unwrap_or_default(),
        roll: recipe.map(|r| r.roll.clone()),
    }
}

/// The hash of the contract spec's JSON.
fn spec_hash(spec: &ContractSpec) -> String {
    hash_hex(canonical(spec).to_string().as_bytes())
}

impl Manifest {
    /// The manifest of a backtest: its inputs, and the hash of its full result.
    pub fn of_backtest(ran: &Ran) -> Manifest {
        Manifest::of_run(ran, Kind::Backtest, ran.result.to_json().as_bytes())
    }

    /// The manifest of a result of `kind` built on the run `ran` (its strategy, series and
    /// costs), whose own JSON without the manifest is `result_json`.
    pub fn of_run(ran: &Ran, kind: Kind, result_json: &[u8]) -> Manifest {
        let r = &ran.result;
        let run = Run {
            strategy: &ran.strategy,
            spec: ran.spec,
            bars: &ran.bars,
            cfg: &ran.cfg,
            window: ResolvedWindow {
                asked: r.window.to_string(),
                first_bar: r.first_bar,
                last_bar: r.last_bar,
                bars: r.bars,
            },
            commission_per_side: r.commission_per_side,
        };
        Manifest::of(&run, kind, result_json)
    }

    /// The manifest of a sweep of `run`'s strategy (with its own parameter values, whose
    /// backtest resolves the window) over `inputs`. Its result hash is filled
    /// in by [`sweep_json`], from the sweep's JSON.
    pub fn of_sweep(run: &Run, inputs: SweepInputs) -> Manifest {
        Manifest {
            sweep: Some(inputs),
            ..Manifest::of(run, Kind::Sweep, b"")
        }
    }

    fn of(run: &Run, kind: Kind, result_json: &[u8]) -> Manifest {
        let strategy = canonical(run.strategy);
        Manifest {
            kind,
            settle_version: SETTLE_VERSION.to_string(),
            series: series_inputs(run.bars),
            spec_hash: spec_hash(run.spec),
            strategy_hash: hash_hex(strategy.to_string().as_bytes()),
            strategy,
            window: run.window.clone(),
            commission_per_side: run.commission_per_side,
            slippage_ticks: run.cfg.slippage_ticks,
            engine: run.cfg.clone(),
            assessment: None,
            sweep: None,
            result_hash: hash_hex(result_json),
        }
    }
}

/// A backtest and what it ran on, borrowed: what a manifest records of it (its window and
/// commission, not its result).
pub struct Run<'a> {
    /// The strategy with its parameter values.
    pub strategy: &'a Strategy,
    /// Its contract spec.
    pub spec: &'a ContractSpec,
    /// The whole series.
    pub bars: &'a Bars,
    /// The engine options applied.
    pub cfg: &'a BacktestConfig,
    /// The window as the backtest resolved it.
    pub window: ResolvedWindow,
    /// Dollars per contract per side the backtest charged.
    pub commission_per_side: f64,
}

/// A sweep's JSON (`json`, as printed without a manifest) with `manifest` attached, its
/// result hash taken from `json`.
pub fn sweep_json(json: &str, manifest: &Manifest) -> String {
    let manifest = Manifest {
        result_hash: hash_hex(json.as_bytes()),
        ..manifest.clone()
    };
    attach(json, &manifest)
}

/// `json` (a result's JSON object, as serde wrote it) with `"manifest": {...}` added as its
/// last key: the result's own bytes and key order stay as they were.
pub fn attach(json: &str, manifest: &Manifest) -> String {
    let body = json.trim_end();
    let Some(open) = body.strip_suffix('}') else {
        return body.to_string();
    };
    let sep = if open.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    format!("{open}{sep}\"manifest\":{}}}", canonical(manifest))
}

/// The full result of a backtest with its manifest, as `settle backtest --json` prints it.
pub fn backtest_json(ran: &Ran) -> String {
    let json = ran.result.to_json();
    let manifest = Manifest::of_run(ran, Kind::Backtest, json.as_bytes());
    attach(&json, &manifest)
}

/// An assessment of `ran` with its manifest, as `settle assess --json` prints it.
pub fn assessment_json(ran: &Ran, assessment: &Assessment, inputs: AssessmentInputs) -> String {
    let json = serde_json::to_string(assessment).unwrap_or_default();
    let mut manifest = Manifest::of_run(ran, Kind::Assessment, json.as_bytes());
    manifest.assessment = Some(inputs);
    attach(&json, &manifest)
}

/// Why a rerun could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RerunError {
    /// The file is not a result with a manifest.
    #[error("{0}")]
    NoManifest(String),
    /// An assessment's manifest without its inputs, or a sweep's without its grid.
    #[error("a {0:?} manifest without its `{1}`")]
    Incomplete(Kind, &'static str),
    /// The recorded sweep cannot run again (its grid, objective or guards no longer parse).
    #[error("the manifest's sweep: {0}")]
    Sweep(String),
    /// The series it names is not in the store.
    #[error("series {key}: {source}")]
    Series {
        /// The store key.
        key: String,
        /// What the store said.
        source: settle_data::DataError,
    },
    /// The recorded strategy no longer reads or compiles.
    #[error("the manifest's strategy: {0}")]
    Strategy(String),
    /// The backtest failed.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// One input that differs between the manifest and today.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The manifest field, e.g. `series.fingerprint`.
    pub input: String,
    /// As recorded.
    pub was: Value,
    /// As found now.
    pub now: Value,
}

/// What a rerun found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rerun {
    /// True when the recomputed result hashes to the recorded `resultHash`.
    pub identical: bool,
    /// Every input that changed, in manifest order (empty when none did).
    pub changed_inputs: Vec<Change>,
    /// The first field of the file's result that differs from the recomputed one, as a JSON
    /// pointer (`/metrics/totalPnl`), with both values; `None` when identical, or when the
    /// file holds no field that differs (an answer that shows only part of the result).
    pub first_difference: Option<Change>,
    /// The recomputed result's hash.
    pub result_hash: String,
}

impl Rerun {
    /// The rerun in a few lines for a terminal.
    pub fn text(&self, recorded_hash: &str) -> String {
        if self.identical {
            return format!("identical (result hash {})", self.result_hash);
        }
        let mut lines = vec![format!(
            "different: result hash {} recorded, {} now",
            recorded_hash, self.result_hash
        )];
        if self.changed_inputs.is_empty() {
            lines.push("  no recorded input changed".into());
        }
        for c in &self.changed_inputs {
            lines.push(format!("  input {}: was {}, now {}", c.input, c.was, c.now));
        }
        match &self.first_difference {
            Some(d) => lines.push(format!(
                "  first difference at {}: was {}, now {}",
                d.input, d.was, d.now
            )),
            None => lines.push("  the file holds no result field that differs".into()),
        }
        lines.join("\n")
    }
}

/// The manifest in `document` (a result as settle printed or served it).
pub fn manifest_of(document: &Value) -> Result<Manifest, RerunError> {
    let m = document.get("manifest").ok_or_else(|| {
        RerunError::NoManifest(
            "no `manifest` key: give a result settle wrote (e.g. `settle backtest --json`)".into(),
        )
    })?;
    serde_json::from_value(m.clone())
        .map_err(|e| RerunError::NoManifest(format!("`manifest`: {e}")))
}

/// Recomputes the backtest, assessment or sweep that `text` (a result settle wrote, with its
/// manifest) records on the series in `store`, and compares: the inputs recorded against
/// today's, the result hash, and the fields `text` holds against the recomputed result, in
/// the order it writes them.
pub fn rerun(text: &RawValue, store: &Store) -> Result<Rerun, RerunError> {
    let document: Value = serde_json::from_str(text.get())
        .map_err(|e| RerunError::NoManifest(format!("not JSON: {e}")))?;
    let was = manifest_of(&document)?;
    let strategy: Strategy = serde_json::from_value(was.strategy.clone())
        .map_err(|e| RerunError::Strategy(e.to_string()))?;
    let compiled = rules::compile(&strategy)
        .map_err(|e| RerunError::Strategy(RunError::from(e).to_string()))?;
    let bars = compiled
        .series(store)
        .map_err(|source| RerunError::Series {
            key: was.series.key.clone(),
            source,
        })?;
    let actual = store::fingerprint(&bars);
    let (json, now) = match was.kind {
        Kind::Backtest => {
            let ran = run::backtest(compiled, bars, Some(was.engine.equity_curve), &|| false)?;
            let json = ran.result.to_json();
            (
                json.clone(),
                Manifest::of_run(&ran, was.kind, json.as_bytes()),
            )
        }
        Kind::Assessment => {
            let inputs = was
                .assessment
                .ok_or(RerunError::Incomplete(was.kind, "assessment"))?;
            let ran = run::backtest(compiled, bars, Some(was.engine.equity_curve), &|| false)?;
            let a = assess(&ran, inputs.trials, inputs.pbo, &|| false)?;
            let json = serde_json::to_string(&a).unwrap_or_default();
            let mut now = Manifest::of_run(&ran, was.kind, json.as_bytes());
            now.assessment = Some(inputs);
            (json, now)
        }
        Kind::Sweep => {
            let inputs = was
                .sweep
                .as_ref()
                .ok_or(RerunError::Incomplete(was.kind, "sweep"))?;
            crate::sweep_document::recompute(compiled, &bars, inputs).map_err(RerunError::Sweep)?
        }
    };
    let mut changed_inputs = compare_inputs(&was, &now);
    // The catalog's fingerprint is what was recorded; a file changed under the catalog shows
    // as a column hash that no longer matches it.
    if actual != now.series.fingerprint {
        changed_inputs.push(Change {
            input: "series content (the stored file no longer matches its catalog fingerprint)"
                .into(),
            was: Value::String(now.series.fingerprint.clone()),
            now: Value::String(actual),
        });
    }
    let value: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
    let identical = now.result_hash == was.result_hash;
    let first_difference = if identical {
        None
    } else {
        let mut value = value;
        if let Value::Object(map) = &mut value {
            // The manifest is not a result field: equal in both, so never a difference.
            map.insert("manifest".into(), document["manifest"].clone());
        }
        first_difference("", text, &value)
    };
    Ok(Rerun {
        identical,
        changed_inputs,
        first_difference,
        result_hash: now.result_hash,
    })
}

/// The manifest fields that differ, result hash aside, in field order.
fn compare_inputs(was: &Manifest, now: &Manifest) -> Vec<Change> {
    let (Value::Object(a), Value::Object(b)) = (canonical(was), canonical(now)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, old) in &a {
        if key == "resultHash" || key == "kind" {
            continue;
        }
        let new = b.get(key).cloned().unwrap_or(Value::Null);
        collect_changes(key, old, &new, &mut out);
    }
    out
}

/// Every leaf under `path` that differs between `old` and `new` (objects are walked, anything
/// else compared whole).
fn collect_changes(path: &str, old: &Value, new: &Value, out: &mut Vec<Change>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let null = Value::Null;
                let child = format!("{path}.{k}");
                collect_changes(
                    &child,
                    a.get(k).unwrap_or(&null),
                    b.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        _ if old != new => out.push(Change {
            input: path.to_string(),
            was: old.clone(),
            now: new.clone(),
        }),
        _ => {}
    }
}

/// The first leaf of `recorded` (JSON text), in the order the text writes it, whose value
/// differs from `now` at the same JSON pointer. Only fields both hold are compared: an answer
/// may show part of the result and fields of its own (ids, pages).
fn first_difference(pointer: &str, recorded: &RawValue, now: &Value) -> Option<Change> {
    let text = recorded.get().trim_start();
    let differs = |was: Value| {
        (was != *now).then(|| Change {
            input: pointer.to_string(),
            was,
            now: now.clone(),
        })
    };
    match (text.as_bytes().first(), now) {
        (Some(b'{'), Value::Object(b)) => {
            let Ok(Ordered(fields)) = serde_json::from_str::<Ordered>(text) else {
                return differs(Value::Null);
            };
            fields.iter().find_map(|(k, v)| {
                let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                b.get(k).and_then(|w| first_difference(&p, v, w))
            })
        }
        (Some(b'['), Value::Array(b)) => {
            let Ok(items) = serde_json::from_str::<Vec<Box<RawValue>>>(text) else {
                return differs(Value::Null);
            };
            let common = items
                .iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (v, w))| first_difference(&format!("{pointer}/{i}"), v, w));
            common.or_else(|| {
                (items.len() != b.len()).then(|| Change {
                    input: format!("{pointer} (length)"),
                    was: Value::from(items.len()),
                    now: Value::from(b.len()),
                })
            })
        }
        _ => differs(serde_json::from_str(text).unwrap_or(Value::Null)),
    }
}

/// A JSON object's fields in the order its text writes them (serde_json's `Value` sorts them).
struct Ordered(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    fields.push(entry);
                }
                Ok(Ordered(fields))
            }
        }
        d.deserialize_map(Fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn first_difference_walks_in_the_order_of_the_text() {
        let was = raw(r#"{"z": 1, "m": {"y": "other", "x": [1, 2, 3]}}"#);
        let now = json!({"z": 1, "m": {"x": [1, 5, 3], "y": "same"}});
        let d = first_difference("", &was, &now).unwrap();
        assert_eq!(d.input, "/m/y");
        assert_eq!((d.was, d.now), (json!("other"), json!("same")));
        let was = raw(r#"{"z": 1, "m": {"y": "same", "x": [1, 2, 3]}}"#);
        let d = first_difference("", &was, &now).unwrap();
        assert_eq!(d.input, "/m/x/1");
    }

    #[test]
    fn only_fields_both_hold_are_compared_and_lengths_are() {
        let was = raw(r#"{"metrics": {"totalPnl": 5.0}}"#);
        let now = json!({"metrics": {"totalPnl": 5.0, "tradeCount": 3}, "trades": [1]});
        assert_eq!(first_difference("", &was, &now), None);
        let was = raw(r#"{"backtestId": "b1", "metrics": {"totalPnl": 5.0}}"#);
        assert_eq!(first_difference("", &was, &now), None);
        let d = first_difference("/t", &raw("[1, 2]"), &json!([1, 2, 3])).unwrap();
        assert_eq!(d.input, "/t (length)");
    }

    #[test]
    fn changed_inputs_name_the_leaf() {
        let mut out = Vec::new();
        collect_changes(
            "series",
            &json!({"key": "CL/continuous/1d", "fingerprint": "aa"}),
            &json!({"key": "CL/continuous/1d", "fingerprint": "bb"}),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].input, "series.fingerprint");
    }

    #[test]
    fn attach_keeps_the_result_bytes() {
        let m: Manifest = serde_json::from_value(json!({
            "kind": "backtest", "settleVersion": "0", "specHash": "s", "strategy": {},
            "strategyHash": "h", "commissionPerSide": 2.5, "slippageTicks": 1, "engine": {},
            "resultHash": "r",
            "series": {"key": "CL/continuous/1d", "fingerprint": "f", "rows": 1, "adjustment": "none"},
            "window": {"asked": "all", "firstBar": "2020-01-02T00:00:00Z",
                       "lastBar": "2020-01-02T00:00:00Z", "bars": 1}
        }))
        .unwrap();
        let out = attach(r#"{"z":1,"a":2}"#, &m);
        assert!(out.starts_with(r#"{"z":1,"a":2,"manifest":{"commissionPerSide":2.5,"#));
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(manifest_of(&back).unwrap(), m);
        assert!(attach("{}", &m).starts_with(r#"{"manifest":"#));
    }

    #[test]
    fn hash_hex_is_sha256_prefix() {
        // printf abc | sha256sum: ba7816bf8f01cfea414140de5dae2223...
        assert_eq!(hash_hex(b"abc"), "ba7816bf8f01cfea");
    }
}
