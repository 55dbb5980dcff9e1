//! `assess_strategy`: is the edge real? The robustness verdict of a strategy version, the
//! same as `settle assess` gives (one library path, `settle_strategies::assess`), with the
//! Deflated Sharpe deflated for every trial in the session's ledger.

use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use settle_strategies::manifest::Manifest;

use super::SettleServer;
use crate::args::Args;
use crate::backend::Pick;
use crate::reply::{fix, input_schema, output_schema, reply, Failure, ToolResult};

// Its doc comments would become the tool's input schema (see the `tools` module).
#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessArgs {
    pub session_id: String,
    /// The strategy version to judge.
    pub artifact_id: String,
    /// A finished sweep of it: judge its best_result, PBO counted.
    pub optimization_id: Option<String>,
}

/// One reason of the verdict.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReasonOut {
    /// costs, stability, time, luck, path or sample.
    pub check: String,
    /// Whether the number met its threshold.
    pub passed: bool,
    /// The number, its threshold and what it rests on.
    pub text: String,
}

/// The answer of `assess_strategy`: the verdict, its reasons, and where the evidence is.
#[derive(Debug, Serialize)]
pub struct AssessOut {
    /// robust, fragile, likely_overfit or insufficient.
    pub verdict: String,
    /// Failed checks first.
    pub reasons: Vec<ReasonOut>,
    /// Strategies counted as tried for the Deflated Sharpe: this session's versions on the same
    /// symbol and bar size, and their sweep combinations.
    pub trials: u64,
    /// Closed trades of the judged backtest (30 are needed for a verdict).
    pub trades: u64,
    /// Every number behind the reasons (costs, neighbours, years, thirds, luck, the null
    /// test, bootstrap drawdowns) with the manifest, as one JSON document (resources/read).
    pub evidence_uri: String,
    /// The hashes of the assessment's inputs and result; the whole manifest is in the
    /// evidence document.
    pub manifest: Option<super::strategies::ManifestRef>,
}

#[tool_router(router = assess_tools, vis = "pub(super)")]
impl SettleServer {
    /// `assess_strategy`: the robustness verdict of a strategy version. The client reads the
    /// `description` of the attribute below, not this comment.
    #[tool(
        description = "Is the edge real? Verdict robust, fragile, likely_overfit (insufficient under 30 trades), each reason a number and its threshold: costs (0x/1x/2x, break-even), neighbouring parameters, thirds, years, best 5% of days, Deflated Sharpe over this session's trials, a null test (same trades at random times), bootstrap drawdowns. Deterministic.",
        input_schema = input_schema::<AssessArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn assess_strategy(&self, Args(a): Args<AssessArgs>) -> ToolResult<AssessOut> {
        let s = self.require_strategy(&a.session_id, &a.artifact_id)?;
        let trials = self.trials(&s)?;
        let (mut pick, judged) = match &a.optimization_id {
            None => (Pick::default(), String::new()),
            Some(id) => self.sweep_pick(&a, id)?,
        };
        pick.trials = trials as usize;
        let backend = self.backend.clone();
        let definition = s.definition.clone();
        let value = tokio::task::spawn_blocking(move || backend.assess(&definition, &pick))
            .await
            .map_err(|e| fix(format!("the assessment stopped: {e}")))??;
        let mut out = to_out(&value, trials);
        let manifest: Option<Manifest> = serde_json::from_value(value["manifest"].clone()).ok();
        if let Some(m) = &manifest {
            let uri = super::resources::assessment_uri(&m.result_hash);
            self.save_assessment(&m.result_hash, &value)?;
            out.manifest = Some(super::strategies::ManifestRef::of(m, uri.clone()));
            out.evidence_uri = uri;
        }
        let failed: Vec<&str> = out
            .reasons
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.check.as_str())
            .collect();
        reply(
            format!(
                "{} {}{judged}: {} ({} trades, {} trials counted){}",
                s.ticker,
                a.artifact_id,
                out.verdict.replace('_', " "),
                out.trades,
                trials,
                if failed.is_empty() {
                    String::new()
                } else {
                    format!("; failed: {}", failed.join(", "))
                }
            ),
            out,
        )
    }
}

impl SettleServer {
    /// The best of sweep `id` of the version `a` names: its parameters and PBO, and words
    /// saying what is judged.
    fn sweep_pick(&self, a: &AssessArgs, id: &str) -> Result<(Pick, String), Failure> {
        let sum = self
            .optimization_summary(&a.session_id, id)?
            .ok_or_else(|| {
                fix(format!(
                    "optimization_id '{id}' was not found in this session"
                ))
            })?;
        if sum.artifact_id != a.artifact_id {
            return Err(fix(format!(
                "optimization {id} sweeps version {}, not {}",
                sum.artifact_id, a.artifact_id
            )));
        }
        if sum.status != "succeeded" {
            return Err(fix(format!(
                "optimization {id} is {}: assess a sweep that ran to the end",
                sum.status
            )));
        }
        let best = sum
            .best_result
            .ok_or_else(|| fix(format!("optimization {id} has no best_result to judge")))?;
        let judged = format!(" (best of {id}, combination {})", best.combo_index);
        let pick = Pick {
            trials: 0,
            parameters: best
                .parameters
                .into_iter()
                .map(|p| (p.key, p.value))
                .collect(),
            pbo: sum.pbo,
        };
        Ok((pick, judged))
    }

    /// Writes the whole assessment under `$SETTLE_HOME/assessments/{result_hash}.json`
    /// (whole or not at all), where its resource reads it.
    fn save_assessment(&self, result_hash: &str, value: &Value) -> Result<(), Failure> {
        let path = assessment_path(self.store().home(), result_hash);
        settle_data::files::write_bytes_in_place(&path, value.to_string().as_bytes())
            .map_err(|e| fix(format!("saving the assessment to {}: {e}", path.display())))
    }

    /// The ledger's trials for version `s`: the session's versions on its symbol and bar size,
    /// plus their sweep combinations.
    fn trials(&self, s: &crate::model::StrategyRecord) -> Result<u64, Failure> {
        let key = |d: &Value| (d.get("symbol").cloned(), d.get("bar_size").cloned());
        let same: Vec<String> = self
            .store()
            .list_strategies(&s.session_id)?
            .into_iter()
            .filter(|v| key(&v.definition) == key(&s.definition))
            .map(|v| v.artifact_id)
            .collect();
        let rows = self.store().optimization_row_count(&s.session_id, &same)?;
        Ok((same.len() as u64 + rows).max(1))
    }
}

/// Where the assessment whose result hash is `id` is kept.
pub(super) fn assessment_path(home: &std::path::Path, id: &str) -> std::path::PathBuf {
    home.join("assessments").join(format!("{id}.json"))
}

fn to_out(v: &Value, trials: u64) -> AssessOut {
    let reasons = v["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| ReasonOut {
            check: r["check"].as_str().unwrap_or_default().to_string(),
            passed: r["passed"].as_bool().unwrap_or(false),
            text: r["text"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    AssessOut {
        verdict: v["verdict"].as_str().unwrap_or_default().to_string(),
        reasons,
        trials,
        trades: v["evidence"]["trades"].as_u64().unwrap_or(0),
        evidence_uri: String::new(),
        manifest: None,
    }
}
