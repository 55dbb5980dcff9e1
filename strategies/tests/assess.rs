//! The robustness verdict on real data: CL front-month daily, `sma_cross` over all of
//! 2013-2023. Every statistic of `settle_engine::assess` is checked against
//! `tests/peers/assess_reference.py`, written separately from docs/METRICS.md with the Python
//! standard library, on the same trades, equity and bars (1e-9 relative, counts exact). The
//! cost reruns are checked by hand against the trades' own gross P&L and costs.

mod common;

use std::process::Command;

use serde_json::{json, Value};
use settle_engine::assess::{Verdict, BOOTSTRAP_SEED, NULL_SEED, RESAMPLES};
use settle_engine::{EquityCurve, Side};
use settle_strategies::assess::assess;
use settle_strategies::run::{backtest, Ran};
use settle_strategies::{rules, templates};

fn cl_sma_cross() -> Ran {
    let mut s = templates::get("sma_cross", "CL").unwrap();
    s.window = "all".into();
    backtest(
        rules::compile(&s).unwrap(),
        common::cl_daily(),
        Some(EquityCurve::Daily),
        &|| false,
    )
    .unwrap()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: settle {a} vs reference {b}"
    );
}

fn reference(ran: &Ran) -> Value {
    let r = &ran.result;
    let first = ran.bars.ts.binary_search(&r.first_bar.0).unwrap();
    let last = ran.bars.ts.binary_search(&r.last_bar.0).unwrap();
    let trades: Vec<Value> = r
        .trades
        .iter()
        .map(|t| {
            json!({"net": t.net_pnl, "bars_held": t.bars_held,
                   "side": if t.side == Side::Long { 1 } else { -1 },
                   "contracts": t.contracts, "cost": t.commission + t.slippage})
        })
        .collect();
    let input = json!({
        "capital": ran.cfg.starting_capital,
        "dates": r.daily_equity.iter().map(|d| d.date.to_string()).collect::<Vec<_>>(),
        "equity": r.daily_equity.iter().map(|d| d.equity).collect::<Vec<_>>(),
        "trades": trades,
        "opens": &ran.bars.open[first..=last],
        "closes": &ran.bars.close[first..=last],
        "point_value": ran.spec.multiplier,
        "bootstrap": {"resamples": RESAMPLES, "seed": BOOTSTRAP_SEED},
        "null": {"runs": RESAMPLES, "seed": NULL_SEED},
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.json");
    std::fs::write(&path, input.to_string()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/peers/assess_reference.py"
    );
    let out = Command::new(common::venv_python())
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "assess_reference.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_statistic_matches_the_independent_reference() {
    let ran = cl_sma_cross();
    let a = assess(&ran, 1, None, &|| false).unwrap();
    let e = &a.evidence;
    assert!(e.trades >= 30, "{} trades", e.trades);
    let py = reference(&ran);

    let years = py["years"].as_array().unwrap();
    assert_eq!(e.years.len(), years.len());
    for (y, p) in e.years.iter().zip(years) {
        assert_eq!(i64::from(y.year), p[0].as_i64().unwrap());
        close(y.pnl, p[1].as_f64().unwrap(), &format!("P&L of {}", y.year));
    }
    for k in 0..3 {
        close(e.thirds[k], py["thirds"][k].as_f64().unwrap(), "third");
    }
    assert_eq!(
        e.best_days as u64,
        py["best_days"]["days"].as_u64().unwrap()
    );
    close(
        e.best_days_share.unwrap(),
        py["best_days"]["share"].as_f64().unwrap(),
        "best days' share",
    );
    assert_eq!(
        e.losing_streak as u64,
        py["streak"]["trades"].as_u64().unwrap()
    );
    close(
        e.losing_streak_dollars,
        py["streak"]["dollars"].as_f64().unwrap(),
        "streak $",
    );
    let d = e.drawdowns.as_ref().unwrap();
    close(
        d.median,
        py["bootstrap"]["median"].as_f64().unwrap(),
        "bootstrap median",
    );
    close(
        d.p95,
        py["bootstrap"]["p95"].as_f64().unwrap(),
        "bootstrap p95",
    );
    let n = e.null.as_ref().unwrap();
    assert_eq!(n.beats as u64, py["null"]["beats"].as_u64().unwrap());
    close(n.p_value, py["null"]["p_value"].as_f64().unwrap(), "null p");
    close(
        n.median_total,
        py["null"]["median_total"].as_f64().unwrap(),
        "null median",
    );
    close(
        n.actual_total,
        py["null"]["actual_total"].as_f64().unwrap(),
        "actual total",
    );
}

#[test]
fn costs_follow_the_trades_own_gross_and_costs_and_the_verdict_is_deterministic() {
    let ran = cl_sma_cross();
    let a = assess(&ran, 1, None, &|| false).unwrap();
    let c = a.evidence.costs.as_ref().unwrap();
    let trades = &ran.result.trades;
    let gross: f64 = trades.iter().map(|t| t.gross_pnl).sum();
    let paid: f64 = trades.iter().map(|t| t.commission + t.slippage).sum();
    // Costs do not move the signals, so the same trades are taken at every cost level.
    assert!(
        (c.pnl_no_costs - gross).abs() < 1e-6,
        "{} vs {gross}",
        c.pnl_no_costs
    );
    assert!((c.pnl_double_costs - (gross - 2.0 * paid)).abs() < 1e-6);
    assert!((c.pnl_modeled - (gross - paid)).abs() < 1e-6);
    // CL: $2.50 commission + 1 tick of $10 per side.
    assert_eq!(c.modeled_per_side, 12.5);
    close(
        c.break_even_per_side.unwrap(),
        gross / paid * 12.5,
        "break-even",
    );
    // Two integer parameters, both a step from their bounds: 3 × 3 − 1 neighbours.
    assert_eq!(a.evidence.stability.as_ref().unwrap().neighbours, 8);
    let again = assess(&ran, 1, None, &|| false).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    assert!(a.reasons.iter().any(|r| r.check == "luck"));
    // More trials can only lower the Deflated Sharpe.
    let many = assess(&ran, 200, None, &|| false).unwrap();
    let dsr = |x: &settle_strategies::assess::Assessment| {
        x.evidence.luck.as_ref().unwrap().deflated_sharpe
    };
    assert!(dsr(&many) < dsr(&a), "{} vs {}", dsr(&many), dsr(&a));
    assert_ne!(a.verdict, Verdict::Insufficient);
    // A pick from a sweep whose PBO is over one half is likely overfit, whatever else holds.
    let picked = assess(&ran, 1, Some(0.6), &|| false).unwrap();
    assert_eq!(picked.verdict, Verdict::LikelyOverfit);
    assert!(picked
        .reasons
        .iter()
        .any(|r| !r.passed && r.text.starts_with("PBO 0.600")));
}

#[test]
fn too_few_trades_say_how_many_are_needed_and_a_cancel_stops() {
    let mut s = templates::get("sma_cross", "CL").unwrap();
    s.window = "2023-01-01..2023-03-31".into();
    let ran = backtest(
        rules::compile(&s).unwrap(),
        common::cl_daily(),
        Some(EquityCurve::Daily),
        &|| false,
    )
    .unwrap();
    let a = assess(&ran, 1, None, &|| false).unwrap();
    assert_eq!(a.verdict, Verdict::Insufficient);
    assert!(
        a.reasons[0].text.contains("at least 30"),
        "{}",
        a.reasons[0].text
    );
    let cancelled = assess(&ran, 1, None, &|| true);
    assert!(matches!(
        cancelled,
        Err(settle_strategies::run::RunError::Cancelled)
    ));
}
