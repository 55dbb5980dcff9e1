//! `get_backtest_chart` and `get_optimization_chart`: a backtest's pictures (equity, monthly
//! P&L, trade P&L) and a sweep's heatmap, as pictures the client shows inline and as files
//! under `$SETTLE_HOME/charts`; `get_backtest_report`: the HTML report, as a file and a
//! resource.
//!
//! A picture's answer is an MCP image block (PNG, base64) and one line of text, and
//! deliberately no `structuredContent`: Claude Code drops image blocks from an answer that has
//! it.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::NaiveDate;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use rmcp::{tool, tool_router, ErrorData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use settle_engine::chart::{self, EquityChart, SIZE};

use super::SettleServer;
use crate::args::Args;
use crate::reply::{fix, input_schema, output_schema, reply, Failure, ToolResult};

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartArgs {
    pub session_id: String,
    /// The strategy version whose latest backtest to draw.
    pub artifact_id: String,
    /// Which picture (default equity).
    pub chart: Option<ChartKind>,
}

/// The pictures of one backtest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// The daily equity curve, entries and exits marked, the drawdown underneath.
    Equity,
    /// Net P&L of every calendar month, a year by month heatmap.
    Monthly,
    /// The histogram of the trades' net P&L.
    Distribution,
}

impl ChartKind {
    fn name(self) -> &'static str {
        match self {
            ChartKind::Equity => "equity",
            ChartKind::Monthly => "monthly",
            ChartKind::Distribution => "distribution",
        }
    }
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    pub session_id: String,
    /// The strategy version whose latest backtest to write up.
    pub artifact_id: String,
}

/// Where the report was written and how to read it.
#[derive(Debug, Serialize)]
pub struct ReportOut {
    /// The HTML file, self-contained: open it in a browser, offline.
    pub path: String,
    /// The same page as an MCP resource (text/html).
    pub uri: String,
    /// Size of the HTML file in bytes.
    pub bytes: u64,
}

/// Writes `bytes` to `home/dir/name`, making the directory; the path written.
fn save(home: &Path, dir: &str, name: &str, bytes: &[u8]) -> Result<PathBuf, Failure> {
    let path = home.join(dir).join(name);
    settle_data::files::write_bytes_in_place(&path, bytes)
        .map_err(|e| fix(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// A picture and the line that says what it shows.
pub struct Picture {
    /// The line that says what the picture shows, sent beside it.
    pub text: String,
    /// The picture, PNG bytes (sent base64-encoded as image content).
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

#[allow(missing_docs)]
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
    /// `get_backtest_chart`: a picture of a version's latest backtest (equity, monthly or
    /// distribution). The client reads the `description` of the attribute below.
    #[tool(
        description = "A picture of a version's latest backtest (PNG, 800x500), also saved as a file: chart=equity (default; the daily equity curve, entries and exits marked, drawdown underneath), monthly (net P&L by year and month) or distribution (histogram of the trades' net P&L).",
        input_schema = input_schema::<ChartArgs>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_backtest_chart(&self, Args(a): Args<ChartArgs>) -> Result<Picture, Failure> {
        let s = self.require_strategy(&a.session_id, &a.artifact_id)?;
        let bt = self.latest_backtest(&s)?;
        let id = bt.backtest_id.clone();
        if bt.status != "passed" {
            return Err(fix(format!(
                "backtest {id} is {}: there is no picture to draw yet",
                bt.status
            )));
        }
        let kind = a.chart.unwrap_or(ChartKind::Equity);
        let day = |s: &str| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok();
        let dates: Vec<NaiveDate> = bt
            .daily_equity
            .iter()
            .filter_map(|p| day(&p.date))
            .collect();
        let equity: Vec<f64> = bt.daily_equity.iter().map(|p| p.equity).collect();
        let facts = bt.facts.unwrap_or_default();
        let title = format!("{} ({}), {}", s.ticker, s.description, facts.window_text());
        let start = if facts.starting_capital > 0.0 {
            facts.starting_capital
        } else {
            equity.first().copied().unwrap_or_default()
        };
        let (w, h) = SIZE;
        let drawn = match kind {
            ChartKind::Equity => {
                let entries: Vec<NaiveDate> = bt
                    .trades
                    .iter()
                    .filter_map(|t| day(&t.entry_time))
                    .collect();
                let exits: Vec<NaiveDate> =
                    bt.trades.iter().filter_map(|t| day(&t.exit_time)).collect();
                chart::equity_png(
                    &EquityChart {
                        title: &title,
                        dates: &dates,
                        equity: &equity,
                        start,
                        entries: &entries,
                        exits: &exits,
                    },
                    w,
                    h,
                )
            }
            ChartKind::Monthly => chart::monthly_returns_png(
                &chart::monthly_returns(&dates, &equity, start),
                &title,
                w,
                h,
            ),
            ChartKind::Distribution => {
                let pnl: Vec<f64> = bt.trades.iter().map(|t| t.pnl).collect();
                chart::pnl_distribution_png(&pnl, &title, w, h)
            }
        }
        .map_err(|e| fix(e.to_string()))?;
        let path = save(
            self.store().home(),
            "charts",
            &format!("{id}-{}.png", kind.name()),
            &drawn.image,
        )?;
        let what = match kind {
            ChartKind::Equity => "Equity and drawdown",
            ChartKind::Monthly => "Net P&L by month",
            ChartKind::Distribution => "Distribution of trade net P&L",
        };
        let metrics = bt
            .metrics
            .as_ref()
            .map(crate::model::HeadlineMetrics::text)
            .unwrap_or_default();
        Ok(Picture {
            text: format!(
                "{what} of backtest {id} on {}: {metrics}.{} Saved as {}.",
                facts.window_text(),
                facts.caveat_text(),
                path.display()
            ),
            png: drawn.image,
        })
    }

    /// `get_backtest_report`: the version's latest backtest as one HTML page. The client reads the
    /// `description` of the attribute below.
    #[tool(
        description = "Write a version's latest backtest as one self-contained HTML page (headline metrics and caveats, equity, monthly and trade-P&L pictures, every metric, the trades, the rules, the series fingerprint, costs, settle version) and return its path and resource URI. The backtest is run again to write it (deterministic: same rules, same data, same numbers).",
        input_schema = input_schema::<ReportArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_backtest_report(&self, Args(a): Args<ReportArgs>) -> ToolResult<ReportOut> {
        let s = self.require_strategy(&a.session_id, &a.artifact_id)?;
        let bt = self.latest_backtest(&s)?;
        let id = bt.backtest_id.clone();
        let (page, note) = self.report_html(&bt).await?;
        let path = save(
            self.store().home(),
            "reports",
            &format!("{id}.html"),
            page.as_bytes(),
        )?;
        let out = ReportOut {
            path: path.display().to_string(),
            uri: super::resources::report_uri(&id),
            bytes: page.len() as u64,
        };
        reply(
            format!(
                "Report of backtest {id} written to {} ({} KB; resource {}).{note}",
                out.path,
                page.len().div_ceil(1024),
                out.uri
            ),
            out,
        )
    }

    /// `get_optimization_chart`: a sweep's heatmap over two parameters. The client reads the
    /// `description` of the attribute below.
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
        let path = save(
            self.store().home(),
            "charts",
            &format!("{}-heatmap.png", a.optimization_id),
            &png,
        )?;
        Ok(Picture {
            text: format!(
                "Heatmap of {title}. {} Saved as {}.",
                summary.text(),
                path.display()
            ),
            png,
        })
    }
}
