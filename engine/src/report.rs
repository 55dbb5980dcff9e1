//! One self-contained HTML page of a backtest, and of the sweep it came from: the headline
//! metrics with their caveats beside them, the pictures, every metric, the trades and the exact
//! inputs, so anyone can read it offline and run it again.
//!
//! Nothing is fetched when the page opens: the pictures are PNGs inlined as `data:` URIs and
//! the style sits in the page. Every text that came from outside (a strategy's name, a contract)
//! is escaped.

use std::fmt::Write as _;

use base64::Engine as _;
use chrono::NaiveDate;

use crate::chart::{self, ChartError, SIZE};
use crate::words::{dollars, json_name, metrics_text};
use crate::BacktestResult;

/// Most trades listed in the page; a longer list says how many were left out.
pub const MAX_TRADES: usize = 5000;

/// What the result alone does not say: how to rerun it.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The page's heading, e.g. `sma_cross on CL/continuous/1d`.
    pub title: &'a str,
    /// The rules as sent, pretty JSON.
    pub strategy_json: &'a str,
    /// The content fingerprint of the series traded, as the store's catalog lists it.
    pub fingerprint: &'a str,
    /// Dollars the account started from.
    pub starting_capital: f64,
    /// Ticks of slippage charged per fill.
    pub slippage_ticks: u32,
    /// The settle version that ran it.
    pub version: &'a str,
    /// The result's manifest as a JSON document (`{"manifest": ...}`), for `settle rerun`.
    pub manifest_json: &'a str,
}

/// The sweep a backtest's parameters were chosen from: lines of text and its pictures.
#[derive(Debug, Clone, Default)]
pub struct SweepSection {
    /// Facts about the sweep (grid, objective, best combination, guards), one list item each.
    pub lines: Vec<String>,
    /// The objective over two parameters (PNG), when the sweep had two or more.
    pub heatmap: Option<Vec<u8>>,
    /// Out-of-sample equity against the in-sample pace (PNG), after a walk-forward.
    pub walk_forward: Option<Vec<u8>>,
}

/// The page for backtest `r`.
pub fn backtest_html(
    r: &BacktestResult,
    inputs: &Inputs,
    sweep: Option<&SweepSection>,
) -> Result<String, ChartError> {
    let dates: Vec<NaiveDate> = r.daily_equity.iter().map(|d| d.date).collect();
    let equity: Vec<f64> = r.daily_equity.iter().map(|d| d.equity).collect();
    let pnl: Vec<f64> = r.trades.iter().map(|t| t.net_pnl).collect();
    let (w, h) = SIZE;
    let curve = chart::backtest_chart(r, inputs.title, inputs.starting_capital, false)?;
    let months = chart::monthly_returns(&dates, &equity, inputs.starting_capital);
    let monthly = chart::monthly_returns_png(&months, "net P&L by month", w, h)?.image;
    let spread = chart::pnl_distribution_png(&pnl, "net P&L of each trade", w, h)?.image;

    let mut page = String::with_capacity(256 * 1024);
    let title = escape(inputs.title);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    let _ = writeln!(
        page,
        "<p class=\"headline\" id=\"headline\">{}</p>",
        escape(&metrics_text(&r.metrics))
    );
    let contracts = if r.contracts.is_empty() {
        String::new()
    } else {
        format!(", contracts {}", escape(&r.contracts.join(", ")))
    };
    let _ = writeln!(
        page,
        "<p>{} on {} bars of {} ({} .. {}){contracts}.</p>",
        escape(&r.window.to_string()),
        r.bars,
        escape(&r.series),
        r.first_bar.utc_date(),
        r.last_bar.utc_date(),
    );
    if !r.notes.is_empty() {
        page.push_str("<h2>Caveats</h2>\n<ul class=\"caveats\" id=\"caveats\">\n");
        for n in &r.notes {
            let _ = writeln!(page, "<li>{}</li>", escape(n));
        }
        page.push_str("</ul>\n");
    }
    if let Some(s) = sweep {
        page.push_str("<h2>Sweep</h2>\n<ul id=\"sweep\">\n");
        for l in &s.lines {
            let _ = writeln!(page, "<li>{}</li>", escape(l));
        }
        page.push_str("</ul>\n");
        if let Some(png) = &s.heatmap {
            image(
                &mut page,
                "heatmap",
                "the sweep's objective over two parameters",
                png,
            );
        }
        if let Some(png) = &s.walk_forward {
            let alt = "walk-forward: out-of-sample equity against the in-sample pace";
            image(&mut page, "walk-forward", alt, png);
        }
    }
    page.push_str("<h2>Pictures</h2>\n");
    image(&mut page, "equity", "equity and drawdown", &curve);
    image(&mut page, "monthly", "net P&L by month", &monthly);
    image(&mut page, "distribution", "net P&L of each trade", &spread);
    metrics_table(&mut page, r);
    trades_table(&mut page, r);
    let _ = write!(
        page,
        "<h2>Inputs</h2>\n<table id=\"inputs\">\
         <tr><th>series</th><td>{}</td></tr>\
         <tr><th>fingerprint</th><td><code>{}</code></td></tr>\
         <tr><th>adjustment</th><td>{}</td></tr>\
         <tr><th>window</th><td>{}</td></tr>\
         <tr><th>starting capital</th><td>{}</td></tr>\
         <tr><th>commission</th><td>{} per contract per side</td></tr>\
         <tr><th>slippage</th><td>{} tick(s) per fill</td></tr>\
         <tr><th>settle</th><td>{}</td></tr></table>\n\
         <h3>Strategy</h3>\n<pre id=\"strategy\">{}</pre>\n\
         <h3>Manifest</h3>\n<p>Saved as a file, this block is what <code>settle rerun FILE</code> \
         recomputes to prove the figures above.</p>\n<pre id=\"manifest\">{}</pre>\n</body></html>\n",
        escape(&r.series),
        escape(inputs.fingerprint),
        escape(&r.adjustment),
        escape(&r.window.to_string()),
        dollars(inputs.starting_capital),
        dollars(r.commission_per_side),
        inputs.slippage_ticks,
        escape(inputs.version),
        escape(inputs.strategy_json),
        escape(inputs.manifest_json)
    );
    Ok(page)
}

const STYLE: &str = "body{font-family:sans-serif;max-width:860px;margin:2em auto;color:#222}\
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;\
text-align:right}th{background:#f3f3f3}.headline{font-size:18px;font-weight:bold}\
.caveats li{color:#8a4b00}img{display:block;margin:1em 0}pre{background:#f7f7f7;padding:1em;\
overflow-x:auto;font-size:12px}";

fn image(page: &mut String, id: &str, alt: &str, png: &[u8]) {
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    let _ = writeln!(
        page,
        "<img id=\"{id}\" alt=\"{alt}\" width=\"{}\" height=\"{}\" \
         src=\"data:image/png;base64,{data}\">",
        SIZE.0, SIZE.1
    );
}

/// Every metric by its JSON name, as `docs/METRICS.md` defines them; `-` where undefined.
fn metrics_table(page: &mut String, r: &BacktestResult) {
    page.push_str("<h2>Metrics</h2>\n<table id=\"metrics\">\n");
    if let Ok(serde_json::Value::Object(m)) = serde_json::to_value(&r.metrics) {
        for (k, v) in m {
            let shown = match v {
                serde_json::Value::Null => "-".to_string(),
                v => v.to_string(),
            };
            let _ = writeln!(page, "<tr><th>{}</th><td>{}</td></tr>", escape(&k), shown);
        }
    }
    page.push_str("</table>\n");
}

fn trades_table(page: &mut String, r: &BacktestResult) {
    let _ = writeln!(page, "<h2>Trades ({})</h2>", r.trades.len());
    if r.trades.len() > MAX_TRADES {
        let _ = writeln!(
            page,
            "<p>The first {MAX_TRADES} of {} trades; the backtest's JSON has them all.</p>",
            r.trades.len()
        );
    }
    page.push_str(
        "<table id=\"trades\"><tr><th>#</th><th>side</th><th>contracts</th><th>contract</th>\
         <th>entry</th><th>price</th><th>exit</th><th>price</th><th>reason</th><th>bars</th>\
         <th>net P&amp;L</th></tr>\n",
    );
    let stamp = |s: crate::trade::Stamp| {
        chrono::DateTime::from_timestamp(s.0, 0)
            .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    for t in r.trades.iter().take(MAX_TRADES) {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t.id,
            json_name(&t.side),
            t.contracts,
            escape(&t.contract),
            stamp(t.entry_time),
            t.entry_price,
            stamp(t.exit_time),
            t.exit_price,
            json_name(&t.exit_reason),
            t.bars_held,
            dollars(t.net_pnl)
        );
    }
    page.push_str("</table>\n");
}

/// `text` safe inside HTML elements and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_cannot_open_a_tag() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
