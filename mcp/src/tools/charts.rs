//! `get_backtest_chart`: the equity curve and drawdown of a backtest, as a picture the client
//! shows inline.
//!
//! The answer is an MCP image block (PNG, base64) and one line of text, and deliberately no
//! `structuredContent`: Claude Code drops image blocks from an answer that has it.

use base64::Engine as _;
use chrono::NaiveDate;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use rmcp::{tool, tool_router, ErrorData};
use schemars::JsonSchema;
use serde::Deserialize;
use settle_engine::chart::{self, EquityChart};

use super::SettleServer;
use crate::args::Args;
use crate::reply::{fix, input_schema, Failure};

use settle_engine::chart::SIZE;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartArgs {
    pub session_id: String,
    /// The strategy version whose latest backtest to draw.
    pub artifact_id: String,
}

/// A picture and the line that says what it shows.
pub struct Picture {
    pub text: String,
    pub png: Vec<u8>,
}

impl IntoCallToolResult for Picture {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let data = base64::engine::general_purpose::STANDARD.encode(&self.png);
        Ok(CallToolResult::success(vec![
            ContentBlock::image(data, "image/png"),
            ContentBlock::text(self.text),
        ])
        .into())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepChartArgs {
    pub session_id: String,
    pub optimization_id: String,
    /// Parameter across (default: the first swept).
    pub x: Option<String>,
    /// Parameter down (default: the second swept); the others are held at the best's values.
    pub y: Option<String>,
}

#[tool_router(router = chart_tools, vis = "pub(super)")]
impl SettleServer {
    #[tool(
        description = "A picture of a version's latest backtest: the daily equity curve with entries and exits marked and the drawdown underneath (PNG, 800x500).",
        input_schema = input_schema::<ChartArgs>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_backtest_chart(&self, Args(a): Args<ChartArgs>) -> Result<Picture, Failure> {
        let s = self.require_strategy(&a.session_id, &a.artifact_id)?;
        let bt = self.latest_backtest(&s)?;
        let id = bt.backtest_id.clone();
        if bt.status != "passed" {
            return Err(fix(format!(
                "backtest {id} is {}: there is no curve to draw yet",
                bt.status
            )));
        }
        let day = |s: &str| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok();
        let dates: Vec<NaiveDate> = bt
            .daily_equity
            .iter()
            .filter_map(|p| day(&p.date))
            .collect();
        let equity: Vec<f64> = bt.daily_equity.iter().map(|p| p.equity).collect();
        let entries: Vec<NaiveDate> = bt
            .trades
            .iter()
            .filter_map(|t| day(&t.entry_time))
            .collect();
        let exits: Vec<NaiveDate> = bt.trades.iter().filter_map(|t| day(&t.exit_time)).collect();
        let facts = bt.facts.unwrap_or_default();
        let title = format!("{} ({}), {}", s.ticker, s.description, facts.window_text());
        let start = if facts.starting_capital > 0.0 {
            facts.starting_capital
        } else {
            equity.first().copied().unwrap_or_default()
        };
        let drawn = chart::equity_png(
            &EquityChart {
                title: &title,
                dates: &dates,
                equity: &equity,
                start,
                entries: &entries,
                exits: &exits,
            },
            SIZE.0,
            SIZE.1,
        )
        .map_err(|e| fix(e.to_string()))?;
        let metrics = bt
            .metrics
            .as_ref()
            .map(crate::model::Metrics::text)
            .unwrap_or_default();
        Ok(Picture {
            text: format!(
                "Equity and drawdown of backtest {id} on {}: {metrics}.{}",
                facts.window_text(),
                facts.caveat_text()
            ),
            png: drawn.image,
        })
    }

    #[tool(
        description = "A picture of a sweep: its rank_by metric over two parameters (x across, y down; others held at the best's values) as a heatmap, best cell outlined, no-trade and failed cells grey (PNG, 800x500).",
        input_schema = input_schema::<SweepChartArgs>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_optimization_chart(
        &self,
        Args(a): Args<SweepChartArgs>,
    ) -> Result<Picture, Failure> {
        let (summary, surface) = self.sweep_surface(
            &a.session_id,
            &a.optimization_id,
            a.x.as_deref(),
            a.y.as_deref(),
        )?;
        let held = if surface.held.is_empty() {
            String::new()
        } else {
            format!(", {} held", surface.held.join(", "))
        };
        let title = format!(
            "{} by {} and {}{held}",
            surface.metric, surface.x_key, surface.y_key
        );
        let png = chart::heatmap_png(
            &chart::Heatmap {
                title: &title,
                x_key: &surface.x_key,
                y_key: &surface.y_key,
                x_labels: &chart::heatmap::value_labels(&surface.x_values),
                y_labels: &chart::heatmap::value_labels(&surface.y_values),
                z: &surface.z,
                best: surface.best,
            },
            SIZE.0,
            SIZE.1,
        )
        .map_err(|e| fix(e.to_string()))?
        .image;
        Ok(Picture {
            text: format!("Heatmap of {title}. {}", summary.text()),
            png,
        })
    }
}
