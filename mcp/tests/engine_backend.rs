//! The real backend on real data: RTL's CL front-month daily OHLC imported into a temporary
//! store, the `sma_cross` template compiled and backtested through [`EngineBackend`], and the
//! result checked against calling the strategy language and the engine directly; a sweep
//! checked against one such backtest per combination.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use settle_data::import::rtl;
use settle_engine::metrics::daily_returns;
use settle_engine::sweep::dsr::deflated_sharpe;
use settle_engine::sweep::{Grid, Objective, Param, SweepSpec};
use settle_mcp::backend::GuardPlan;
use settle_mcp::backend::{Backend, BackendError, BacktestOutput, StrategyInput, SweepEnd};
use settle_mcp::db::Ledger as Db;
use settle_mcp::model::{
    OpStatus, OperationRecord, OptimizationRow, ParameterValue, KIND_BACKTEST, KIND_OPTIMIZATION,
};
use settle_mcp::ops::{Kickoff, Operations};
use settle_mcp::EngineBackend;
use settle_strategies::{rules, templates};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data");

/// A temporary `$SETTLE_HOME` holding the continuous CL daily series.
fn home_with_cl() -> (tempfile::TempDir, settle_data::Bars) {
    let home = tempfile::tempdir().unwrap();
    let dir = Path::new(DATA).join("converted/rtl");
    let expiries = rtl::expiry_table(&dir.join("expiry_table.csv"), "CL", "CL").unwrap();
    let bars =
        rtl::cushing_ohlc(&dir.join("cushing_c1_CL_front_ohlc_daily.csv"), &expiries).unwrap();
    settle_data::store::Store::open(home.path())
        .unwrap()
        .import(std::slice::from_ref(&bars))
        .unwrap();
    (home, bars)
}

fn sma_cross_cl() -> StrategyInput {
    StrategyInput {
        symbol: "CL".into(),
        bar_size: "1d".into(),
        contract: None,
        rules: None,
        rules_json: None,
        template: Some("sma_cross".into()),
        parameters: vec![],
        window: None,
        start: Some("2015-01-01".into()),
        end: Some("2019-12-31".into()),
        commission_per_side: Some(2.0),
        slippage_ticks: Some(2.0),
    }
}

/// Runs `definition` as a backtest operation, the way the tools do, until it settles.
async fn settle(
    home: &Path,
    backend: Arc<EngineBackend>,
    definition: serde_json::Value,
) -> OperationRecord {
    let ops = Operations::new(Db::open(home).unwrap());
    let kick = Kickoff {
        session_id: "ses",
        kind: KIND_BACKTEST,
        subject_id: "art",
        idempotency_key: None,
        exclusive: false,
    };
    let (op, _) = ops
        .start(kick, move |ctx| {
            let out = backend
                .run_backtest(&definition, ctx)
                .map_err(|e| e.to_string())?;
            Ok(serde_json::to_value(out).unwrap())
        })
        .unwrap();
    let done = ops
        .wait(&op.operation_id, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert!(!done.timed_out, "backtest did not finish in 60 s");
    done.operation
}

/// The output of a backtest operation that must succeed.
async fn run(
    home: &Path,
    backend: Arc<EngineBackend>,
    definition: serde_json::Value,
) -> BacktestOutput {
    let op = settle(home, backend, definition).await;
    assert_eq!(op.status, OpStatus::Succeeded, "{:?}", op.error);
    serde_json::from_value(op.result.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sma_cross_on_real_cl_matches_the_engine_called_directly() {
    let (home, bars) = home_with_cl();
    let backend = Arc::new(EngineBackend::open(home.path()).unwrap());
    let mut input = sma_cross_cl();
    input.parameters = vec![ParameterValue {
        key: "fast".into(),
        value: 5.0,
    }];
    let compiled = backend.compile(&input).unwrap();
    assert_eq!(compiled.ticker, "CL");
    let fast = compiled
        .canonical_parameters
        .iter()
        .find(|p| p.key == "fast")
        .unwrap();
    assert_eq!(fast.value, 5.0);
    let out = run(home.path(), backend, compiled.definition).await;

    // Independent path: the template and the client's settings applied by hand.
    let mut s = templates::get("sma_cross", "CL").unwrap();
    s.window = "2015-01-01..2019-12-31".into();
    s.commission_per_side = Some(2.0);
    s.slippage_ticks = Some(2);
    let s = rules::compile_with(&s, &[("fast", 5.0)])
        .map(|c| c.strategy)
        .unwrap();
    let c = rules::compile(&s).unwrap();
    let signals = rules::signals(&c, &bars, c.spec).unwrap();
    let want = settle_engine::backtest(&bars, c.spec, &signals, &rules::to_config(&c)).unwrap();

    let m = &out.metrics;
    assert!(m.trade_count > 0);
    assert_eq!(m.trade_count, u64::from(want.metrics.trade_count));
    assert_eq!(m.total_pnl, want.metrics.total_pnl);
    assert_eq!(m.win_rate, want.metrics.win_rate);
    assert_eq!(m.max_drawdown, want.metrics.max_drawdown);
    assert_eq!(m.sharpe_ratio, want.metrics.sharpe_ratio);
    assert_eq!(m.profit_factor, want.metrics.profit_factor);
    assert_eq!(out.trades.len(), want.trades.len());
    let pnl: f64 = out.trades.iter().map(|t| t.pnl).sum();
    assert!((pnl - want.metrics.total_pnl).abs() < 1e-6);
    assert!(out.trades[0].entry_time.as_str() >= "2015-01-01");
    assert_eq!(out.daily_equity.len(), want.daily_equity.len());
    assert_eq!(out.daily_equity.first().unwrap().date[..4], *"2015");
    assert_eq!(out.daily_equity.last().unwrap().date[..4], *"2019");
    // What was traded and its caveats, as the engine says them.
    let f = &out.facts;
    assert_eq!(f.series, want.series);
    assert_eq!(
        (f.bars, f.window.as_str()),
        (want.bars as u64, "2015-01-01..2019-12-31")
    );
    assert_eq!(
        (f.close_only, f.adjustment.as_str()),
        (want.close_only, want.adjustment.as_str())
    );
    assert_eq!((f.commission_per_side, f.slippage_ticks), (2.0, 2));
    assert_eq!(f.notes, want.notes);
    assert!(f.first_bar.starts_with("2015-01-02"), "{}", f.first_bar);
    let t = &out.trades[0];
    let w = &want.trades[0];
    assert_eq!(
        (t.commission, t.slippage, t.rolls, t.contract.as_str()),
        (w.commission, w.slippage, w.rolls, &*w.contract)
    );
    assert_eq!(t.pnl, w.gross_pnl - w.commission - w.slippage);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_series_says_how_to_get_it() {
    let (home, _) = home_with_cl();
    let backend = Arc::new(EngineBackend::open(home.path()).unwrap());
    let mut input = sma_cross_cl();
    input.symbol = "GC".into();
    let compiled = backend.compile(&input).unwrap();
    let op = settle(home.path(), backend, compiled.definition).await;
    assert_eq!(op.status, OpStatus::Failed);
    let err = op.error.unwrap();
    assert!(err.contains("no continuous GC 1d series"), "{err}");
    assert!(
        !err.contains("settle data"),
        "an MCP answer names no CLI command: {err}"
    );
    assert!(err.contains("list_datasets"), "{err}");
}

#[test]
fn bad_input_names_every_problem() {
    let (home, _) = home_with_cl();
    let backend = EngineBackend::open(home.path()).unwrap();
    let mut input = sma_cross_cl();
    input.parameters = vec![ParameterValue {
        key: "nope".into(),
        value: 1.0,
    }];
    let err = backend.compile(&input).unwrap_err();
    assert!(matches!(err, BackendError::Invalid(_)), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("/parameters: no parameter `nope`"), "{err}");

    input.parameters.clear();
    input.template = Some("moonshot".into());
    let err = backend.compile(&input).unwrap_err().to_string();
    assert!(
        err.contains("no template `moonshot`") && err.contains("sma_cross"),
        "{err}"
    );

    input.template = None;
    input.rules_json = Some(
        json!({"name": "x", "symbol": "CL", "bar_size": "1d",
               "long_entry": {"op": "crosses_above", "left": "clos", "right": 3}})
        .to_string(),
    );
    let err = backend.compile(&input).unwrap_err().to_string();
    assert!(
        err.contains("/long_entry/left: unknown price field `clos`"),
        "{err}"
    );
    assert!(err.contains("/long_exit:"), "{err}");

    input.rules_json = None;
    input.template = Some("sma_cross".into());
    input.slippage_ticks = Some(1.5);
    let err = backend.compile(&input).unwrap_err().to_string();
    assert!(err.starts_with("slippage_ticks:"), "{err}");
}

#[test]
fn templates_and_datasets_come_from_the_real_catalogs() {
    let (home, bars) = home_with_cl();
    let backend = EngineBackend::open(home.path()).unwrap();
    let names: Vec<String> = backend.templates().into_iter().map(|t| t.name).collect();
    assert_eq!(names, templates::names());
    let sma = backend
        .templates()
        .into_iter()
        .find(|t| t.name == "sma_cross")
        .unwrap();
    assert!(sma
        .parameters
        .iter()
        .any(|p| p.key == "fast" && p.category == "entry"));
    let ds = backend.datasets().unwrap();
    assert_eq!(ds.len(), 1);
    assert_eq!(
        (
            ds[0].symbol.as_str(),
            ds[0].kind.as_str(),
            ds[0].contract.as_deref(),
            ds[0].bar_size.as_str()
        ),
        ("CL", "continuous", None, "1d")
    );
    assert_eq!(ds[0].rows, bars.len() as u64);
    assert!(ds[0].first.starts_with("2013-01-02") && ds[0].first < ds[0].last);
    assert_eq!(
        (ds[0].close_only, ds[0].adjustment.as_str()),
        (bars.meta.close_only, bars.meta.adjustment.as_str())
    );
}

/// Every row of `grid` swept by [`EngineBackend::run_sweep`] inside an operation, on a rayon
/// pool of `threads`, sorted by combination (rows arrive in finishing order), and how it ended.
async fn sweep_rows(
    home: &Path,
    backend: Arc<EngineBackend>,
    definition: serde_json::Value,
    grid: Grid,
    threads: usize,
) -> (Vec<OptimizationRow>, SweepEnd) {
    let ops = Operations::new(Db::open(home).unwrap());
    let kick = Kickoff {
        session_id: "ses",
        kind: KIND_OPTIMIZATION,
        subject_id: "opt",
        idempotency_key: None,
        exclusive: false,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let (op, _) = ops
        .start(kick, move |ctx| {
            let mut rows = Vec::new();
            let end = pool
                .install(|| {
                    let plan = GuardPlan {
                        holdout: None,
                        walk_forward: None,
                        pbo_blocks: 16,
                    };
                    backend.run_sweep(
                        &definition,
                        &grid,
                        &total_pnl_max(),
                        &plan,
                        ctx,
                        &mut |batch| {
                            rows.extend_from_slice(batch);
                            Ok(())
                        },
                    )
                })
                .map_err(|e| e.to_string())?;
            Ok(json!({ "rows": rows, "end": end }))
        })
        .unwrap();
    let done = ops
        .wait(&op.operation_id, Duration::from_secs(120))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.operation.status, OpStatus::Succeeded);
    assert_eq!(
        (done.operation.progress_done, done.operation.progress_total),
        (16, 16)
    );
    let result = done.operation.result.unwrap();
    let mut rows: Vec<OptimizationRow> = serde_json::from_value(result["rows"].clone()).unwrap();
    rows.sort_by_key(|r| r.combo_index);
    (rows, serde_json::from_value(result["end"].clone()).unwrap())
}

/// The MCP's default ranking (`rank_by: total_pnl`) as the engine's objective.
fn total_pnl_max() -> SweepSpec {
    SweepSpec {
        objective: Objective::parse("totalPnl:max").unwrap(),
        constraints: vec![],
    }
}

/// An MCP sweep runs the CLI's engine (`settle_engine::sweep` with the shared-indicator
/// `Evaluator`); its rows must be what the server's old path gave: one independent
/// `compile_with` + `compile` + `signals` + `backtest` per combination, with failures for
/// invalid values. And the same whatever the thread count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_equals_one_backtest_per_combination_on_one_or_two_threads() {
    let (home, bars) = home_with_cl();
    let backend = Arc::new(EngineBackend::open(home.path()).unwrap());
    let compiled = backend.compile(&sma_cross_cl()).unwrap();
    // fast = 1 is below the template's minimum of 2 and 10.5 is not a whole period: failures.
    let grid = Grid::new(&[
        Param::List {
            key: "fast".into(),
            values: vec![1.0, 5.0, 10.5, 20.0],
        },
        Param::Range {
            key: "slow".into(),
            min: 30.0,
            max: 60.0,
            step: 10.0,
        },
    ])
    .unwrap();
    let (one, one_end) = sweep_rows(
        home.path(),
        backend.clone(),
        compiled.definition.clone(),
        grid.clone(),
        1,
    )
    .await;
    let (two, two_end) =
        sweep_rows(home.path(), backend, compiled.definition, grid.clone(), 2).await;
    assert_eq!(one, two);
    assert_eq!(
        one.iter().map(|r| r.combo_index).collect::<Vec<_>>(),
        (0..16).collect::<Vec<_>>()
    );

    let mut base = templates::get("sma_cross", "CL").unwrap();
    base.window = "2015-01-01..2019-12-31".into();
    base.commission_per_side = Some(2.0);
    base.slippage_ticks = Some(2);
    assert_eq!(one_end, two_end);
    let mut failed = 0;
    // (total_pnl, combo_index, daily returns) of the best valid combination so far.
    let mut best: Option<(f64, u64, Vec<f64>)> = None;
    let mut trial_sharpes = Vec::new();
    for row in &one {
        let (fast, slow) = (row.parameters[0].value, row.parameters[1].value);
        assert_eq!(
            (
                row.parameters[0].key.as_str(),
                row.parameters[1].key.as_str()
            ),
            ("fast", "slow")
        );
        assert_eq!(
            (fast, slow),
            (
                [1.0, 5.0, 10.5, 20.0][row.combo_index as usize / 4],
                [30.0, 40.0, 50.0, 60.0][row.combo_index as usize % 4]
            )
        );
        match rules::compile_with(&base, &[("fast", fast), ("slow", slow)]).map(|c| c.strategy) {
            Err(errors) => {
                failed += 1;
                let want: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                assert_eq!(row.error.as_deref(), Some(want.join("\n").as_str()));
                assert!(
                    row.error.as_ref().unwrap().contains("/parameters"),
                    "{row:?}"
                );
                assert_eq!(row.metrics, None);
            }
            Ok(s) => {
                let c = rules::compile(&s).unwrap();
                let signals = rules::signals(&c, &bars, c.spec).unwrap();
                let cfg = rules::to_config(&c);
                let run = settle_engine::backtest(&bars, c.spec, &signals, &cfg).unwrap();
                let want = run.metrics;
                trial_sharpes.extend(want.sharpe_ratio.map(|s| s / 252f64.sqrt()));
                if best.as_ref().is_none_or(|b| want.total_pnl > b.0) {
                    let returns =
                        daily_returns(&run.daily_equity, cfg.starting_capital, cfg.risk_free_rate);
                    best = Some((want.total_pnl, row.combo_index, returns));
                }
                let m = row.metrics.as_ref().expect("a valid combination runs");
                assert!(m.trade_count > 0, "{row:?}");
                assert_eq!(row.error, None);
                assert_eq!(m.trade_count, u64::from(want.trade_count));
                assert_eq!(m.total_pnl, want.total_pnl);
                assert_eq!(m.win_rate, want.win_rate);
                assert_eq!(m.max_drawdown, want.max_drawdown);
                assert_eq!(m.sharpe_ratio, want.sharpe_ratio);
                assert_eq!(m.profit_factor, want.profit_factor);
            }
        }
    }
    assert_eq!(failed, 8, "fast = 1 and fast = 10.5, four slows each");

    // The best by total_pnl, judged with the Deflated Sharpe Ratio among the 8 valid trials.
    let (_, index, returns) = best.unwrap();
    let want = deflated_sharpe(&returns, &trial_sharpes).unwrap();
    let got = one_end
        .deflated_sharpe
        .expect("a complete sweep judges its best");
    assert_eq!(one_end.deflated_sharpe_unavailable, None);
    assert_eq!((got.combo_index, got.trials), (index, 8));
    assert_eq!(got.deflated_sharpe, want.deflated_sharpe);
    assert_eq!(got.sharpe, want.best.sharpe);
    assert_eq!(got.expected_max_sharpe, want.expected_max_sharpe);
    assert!(
        got.deflated_sharpe > 0.0 && got.deflated_sharpe < 1.0,
        "{got:?}"
    );
}
