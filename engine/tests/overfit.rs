//! Overfitting guards on real ES data and on matrices small enough to check by hand.
//!
//! * DSR and PBO of a real SMA-cross sweep's daily returns against an independent Python
//!   implementation of the papers (`tests/peers/overfit_reference.py`), to 1e-9. Needs the peer
//!   venv: `bash scripts/python-env.sh`.
//! * PBO of hand-built matrices whose answer follows from their construction.
//! * Walk-forward and holdout on real ES daily prices: folds on the data's trading dates, each
//!   fold's choice equal to a plain sequential in-sample search, each out-of-sample run equal to
//!   a direct backtest, and the stitched curve equal to the per-fold runs laid end to end.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde_json::{json, Value};
use settle_data::Bars;
use settle_engine::metrics::daily_returns;
use settle_engine::sweep::dsr::{deflated_sharpe, trial_sharpes};
use settle_engine::sweep::pbo::pbo;
use settle_engine::sweep::walkforward::{
    trading_dates, walk_forward, FoldPlan, WalkForwardResult, WalkForwardSpec,
};
use settle_engine::sweep::{self, Grid, GuardError, Param, Progress, SweepSpec};
use settle_engine::{backtest, BacktestConfig, BacktestResult, Signals, Window};

const CAPITAL: f64 = 100_000.0;

fn es() -> &'static Bars {
    static BARS: OnceLock<Bars> = OnceLock::new();
    BARS.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/raw/pysystemtrade/adjusted_prices_csv/SP500.csv"
        );
        settle_data::import::pysystemtrade::adjusted_prices(path.as_ref(), "ES").unwrap()
    })
}

fn sma(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut sum = 0.0;
    for i in 0..x.len() {
        sum += x[i];
        if i >= n {
            sum -= x[i - n];
        }
        if i + 1 >= n {
            out[i] = sum / n as f64;
        }
    }
    out
}

/// Long when the fast SMA crosses above the slow one, short when it crosses below; indicators
/// on the full series, traded inside `window`.
fn sma_cross(p: &[(String, f64)], window: Window) -> Result<BacktestResult, String> {
    let bars = es();
    let (f, s) = (
        sma(&bars.close, p[0].1 as usize),
        sma(&bars.close, p[1].1 as usize),
    );
    let mut sig = Signals::none(bars.len());
    for t in 1..bars.len() {
        sig.long_entry[t] = f[t] > s[t] && f[t - 1] <= s[t - 1];
        sig.short_entry[t] = f[t] < s[t] && f[t - 1] >= s[t - 1];
    }
    let cfg = BacktestConfig {
        window,
        starting_capital: CAPITAL,
        ..Default::default()
    };
    let spec = settle_data::spec("ES").map_err(|e| e.to_string())?;
    backtest(bars, spec, &sig, &cfg).map_err(|e| e.to_string())
}

fn list(key: &str, values: &[f64]) -> Param {
    Param::List {
        key: key.into(),
        values: values.to_vec(),
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn no_progress(_: Progress) {}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// `a` equals `b` to 1e-9, relative to `b` when `|b| > 1`.
fn close(what: &str, a: f64, b: f64) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: settle {a} vs reference {b}"
    );
}

/// The venv python, created by the repo's script. Fails (never skips) when it is missing.
fn python() -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("bash")
        .arg(repo.join("scripts/python-env.sh"))
        .output()
        .expect("cannot run bash scripts/python-env.sh");
    assert!(
        out.status.success(),
        "the peer venv is missing: run `bash scripts/python-env.sh` ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn reference(columns: &[Vec<f64>], blocks: &[usize]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("matrix.json");
    std::fs::write(
        &input,
        json!({"columns": columns, "blocks": blocks}).to_string(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/overfit_reference.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "overfit_reference.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn dsr_and_pbo_match_the_python_reference_on_real_es_returns() {
    let window = Window::Dates(date("2014-01-01"), date("2023-08-31"));
    let grid = Grid::new(&[
        list("fast", &[5.0, 10.0, 20.0, 40.0]),
        list("slow", &[50.0, 100.0, 150.0, 200.0]),
    ])
    .unwrap();
    let runs: Vec<BacktestResult> = (0..grid.total_combinations())
        .map(|i| sma_cross(&grid.params(i), window).unwrap())
        .collect();
    let columns: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| daily_returns(&r.daily_equity, CAPITAL, 0.0))
        .collect();
    assert!(columns[0].len() > 2000, "{} days", columns[0].len());
    assert!(runs.iter().all(|r| r.metrics.trade_count > 10));

    let result = sweep::run(
        &grid,
        &SweepSpec::default(),
        |p| sma_cross(p, window).map(|r| r.metrics),
        &AtomicBool::new(false),
        &no_progress,
    );
    let best = result.best_result.as_ref().unwrap().index;
    let trials = trial_sharpes(&result);
    assert_eq!(trials.len(), 16);
    let d = deflated_sharpe(&columns[best], &trials).unwrap();

    let blocks = [2, 8, 16];
    let py = reference(&columns, &blocks);
    let r = &py["dsr"];
    assert_eq!(r["best"], best);
    assert_eq!(r["observations"], d.best.observations);
    assert_eq!(r["trials"], d.trials);
    for (what, ours, key) in [
        ("sharpe", d.best.sharpe, "sharpe"),
        ("skewness", d.best.skewness, "skewness"),
        ("kurtosis", d.best.kurtosis, "kurtosis"),
        ("V", d.trial_sharpe_variance, "variance"),
        ("SR0", d.expected_max_sharpe, "sr0"),
        ("PSR", d.probabilistic_sharpe, "psr"),
        ("DSR", d.deflated_sharpe, "dsr"),
    ] {
        close(what, ours, r[key].as_f64().unwrap());
    }
    eprintln!(
        "best {best}: PSR {} DSR {} (SR0 {})",
        d.probabilistic_sharpe, d.deflated_sharpe, d.expected_max_sharpe
    );
    // The selection matters here: deflating lowers the probability.
    assert!(d.deflated_sharpe < d.probabilistic_sharpe);

    for s in blocks {
        let ours = pbo(&columns, s).unwrap();
        eprintln!(
            "S = {s}: PBO {} over {} splits",
            ours.pbo,
            ours.splits.len()
        );
        let theirs = &py["pbo"][s.to_string()];
        assert_eq!(ours.pbo, theirs["pbo"].as_f64().unwrap(), "S = {s}");
        assert_eq!(json!(ours.bounds), theirs["bounds"]);
        let splits = theirs["splits"].as_array().unwrap();
        assert_eq!(ours.splits.len(), splits.len());
        for (a, b) in ours.splits.iter().zip(splits) {
            assert_eq!(json!(a.in_sample_blocks), b["in_sample_blocks"]);
            assert_eq!(a.best, b["best"].as_u64().unwrap() as usize);
            close(
                "IS Sharpe",
                a.in_sample_sharpe,
                b["in_sample_sharpe"].as_f64().unwrap(),
            );
            close(
                "OOS Sharpe",
                a.out_of_sample_sharpe,
                b["out_of_sample_sharpe"].as_f64().unwrap(),
            );
            close(
                "rank",
                a.relative_rank,
                b["relative_rank"].as_f64().unwrap(),
            );
            close("logit", a.logit, b["logit"].as_f64().unwrap());
        }
    }
}

/// Columns of per-period returns from block values; each block is two rows.
fn columns(blocks: &[&[[f64; 2]]]) -> Vec<Vec<f64>> {
    blocks
        .iter()
        .map(|c| c.iter().flatten().copied().collect())
        .collect()
}

#[test]
fn pbo_is_one_when_the_in_sample_best_is_always_the_out_of_sample_worst() {
    // A's four blocks sum to 0 and no two of them to 0, so A's mean over any two blocks has the
    // opposite sign of its mean over the other two; B = -A. The in-sample best is then always
    // the out-of-sample worst: rank 1 of 2, ω = 1/3, logit ln(1/2).
    let a: &[[f64; 2]] = &[[1.0, 2.0], [3.0, 5.0], [-4.0, -2.0], [0.0, -5.0]];
    let b: Vec<[f64; 2]> = a.iter().map(|r| [-r[0], -r[1]]).collect();
    let p = pbo(&columns(&[a, &b]), 4).unwrap();
    assert_eq!(p.pbo, 1.0);
    assert_eq!(p.splits.len(), 6);
    assert_eq!(p.bounds, [0, 2, 4, 6, 8]);
    for s in &p.splits {
        assert!((s.relative_rank - 1.0 / 3.0).abs() < 1e-15);
        assert!((s.logit - 0.5f64.ln()).abs() < 1e-15);
    }
    // Split {0, 1}: A's in-sample mean is (1+2+3+5)/4 > 0, so A is picked.
    assert_eq!(
        (p.splits[0].in_sample_blocks.clone(), p.splits[0].best),
        (vec![0, 1], 0)
    );
}

#[test]
fn pbo_is_zero_when_one_strategy_dominates_everywhere() {
    // C = B + 1 and A = B + 0.5: same spread as B with a higher mean, so C has the best Sharpe
    // ratio on any set of rows. Out of sample it ranks 3 of 3: ω = 3/4, logit ln 3.
    let b: &[[f64; 2]] = &[[0.3, -0.2], [1.0, 0.1], [-0.7, 0.4], [0.2, -0.9]];
    let shift = |k: f64| -> Vec<[f64; 2]> { b.iter().map(|r| [r[0] + k, r[1] + k]).collect() };
    let p = pbo(&columns(&[&shift(0.5), b, &shift(1.0)]), 4).unwrap();
    assert_eq!(p.pbo, 0.0);
    for s in &p.splits {
        assert_eq!(s.best, 2);
        assert!((s.logit - 3f64.ln()).abs() < 1e-15);
    }
}

#[test]
fn pbo_ties_go_to_the_lowest_column_and_share_the_median_rank() {
    // Three identical columns: column 0 is picked, and out of sample all three tie at the
    // average rank 2 of 3, ω = 1/2, logit 0, which counts as overfit.
    let a: &[[f64; 2]] = &[[0.3, -0.2], [1.0, 0.1], [-0.7, 0.4], [0.2, -0.9]];
    let p = pbo(&columns(&[a, a, a]), 2).unwrap();
    assert_eq!(p.splits.len(), 2);
    for s in &p.splits {
        assert_eq!((s.best, s.relative_rank, s.logit), (0, 0.5, 0.0));
    }
    assert_eq!(p.pbo, 1.0);
}

#[test]
fn pbo_rejects_bad_matrices_naming_the_field() {
    let ok = vec![vec![0.1, -0.2, 0.3, 0.0], vec![0.2, 0.1, -0.1, 0.05]];
    let cases: Vec<(Vec<Vec<f64>>, usize, &str)> = vec![
        (ok.clone(), 3, "`blocks`"),
        (ok.clone(), 0, "`blocks`"),
        (ok.clone(), 18, "`blocks`"),
        (ok.clone(), 4, "`blocks`"),
        (vec![ok[0].clone()], 2, "`columns`"),
        (vec![ok[0].clone(), vec![0.1; 3]], 2, "`columns`"),
        (
            vec![ok[0].clone(), vec![0.1, f64::NAN, 0.0, 0.0]],
            2,
            "`columns[1]`",
        ),
    ];
    for (m, s, field) in cases {
        let msg = pbo(&m, s).unwrap_err().to_string();
        assert!(msg.starts_with(field), "{msg}");
    }
    assert!(pbo(&ok, 2).is_ok());
}

// ---- Walk-forward and holdout on real ES daily prices ----

fn wf_grid() -> Grid {
    Grid::new(&[
        list("fast", &[5.0, 10.0, 20.0]),
        list("slow", &[50.0, 100.0, 200.0]),
    ])
    .unwrap()
}

/// Trading dates from 2015 on.
fn wf_dates() -> Vec<NaiveDate> {
    let spec = settle_data::spec("ES").unwrap();
    let all = trading_dates(es(), spec).unwrap();
    all.into_iter()
        .filter(|d| *d >= date("2015-01-01"))
        .collect()
}

fn wf_spec(plan: FoldPlan) -> WalkForwardSpec {
    WalkForwardSpec {
        plan,
        starting_capital: CAPITAL,
        risk_free_rate: 0.0,
    }
}

const ROLLING: FoldPlan = FoldPlan::Rolling {
    in_sample: 500,
    out_of_sample: 250,
    step: 250,
};

fn run_wf(plan: FoldPlan, threads: usize) -> WalkForwardResult {
    pool(threads)
        .install(|| {
            walk_forward(
                &wf_grid(),
                &SweepSpec::default(),
                &wf_dates(),
                &wf_spec(plan),
                sma_cross,
                &AtomicBool::new(false),
                &no_progress,
            )
        })
        .unwrap()
}

#[test]
fn trading_dates_of_daily_bars_are_their_dates() {
    let spec = settle_data::spec("ES").unwrap();
    let dates = trading_dates(es(), spec).unwrap();
    let mut direct: Vec<NaiveDate> = es()
        .ts
        .iter()
        .map(|&t| chrono::DateTime::from_timestamp(t, 0).unwrap().date_naive())
        .collect();
    direct.dedup();
    assert_eq!(dates, direct);
    // The file's last row is stamped 2023-08-30 23:00:00.
    assert_eq!(dates.last(), Some(&date("2023-08-30")));
}

#[test]
fn rolling_walk_forward_on_real_es_stitches_the_fold_runs() {
    let dates = wf_dates();
    let n = dates.len();
    let wf = run_wf(ROLLING, 2);
    // Folds start every 250 dates while 500 in-sample dates leave one out of sample.
    let planned = (n - 500).div_ceil(250);
    assert_eq!(wf.planned_folds, planned);
    assert_eq!(wf.folds.len(), planned);
    assert!(!wf.cancelled);
    assert!(planned >= 6, "{planned} folds over {n} dates");

    let grid = wf_grid();
    let mut offset = 0.0;
    let mut stitched = 0;
    for (k, fold) in wf.folds.iter().enumerate() {
        let (is0, oos0) = (k * 250, k * 250 + 500);
        let oos1 = (oos0 + 250).min(n);
        assert_eq!(
            fold.windows.in_sample,
            Window::Dates(dates[is0], dates[oos0 - 1])
        );
        assert_eq!(
            fold.windows.out_of_sample,
            Window::Dates(dates[oos0], dates[oos1 - 1])
        );

        // The choice: the first strict maximum of Sharpe over the grid, one backtest at a time.
        let mut best: Option<(usize, f64)> = None;
        for i in 0..grid.total_combinations() {
            let r = sma_cross(&grid.params(i), fold.windows.in_sample).unwrap();
            if let Some(s) = r.metrics.sharpe_ratio {
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((i, s));
                }
            }
        }
        assert_eq!(fold.chosen.index, best.unwrap().0, "fold {k}");
        assert_eq!(fold.chosen.objective, best.unwrap().1);

        // The out-of-sample run is the plain backtest of that choice on those dates.
        let direct = sma_cross(&grid.params(best.unwrap().0), fold.windows.out_of_sample).unwrap();
        assert_eq!(fold.out_of_sample, direct);
        assert_eq!(direct.daily_equity.first().unwrap().date, dates[oos0]);
        assert_eq!(direct.daily_equity.len(), oos1 - oos0);

        // Its days appear in the stitched curve shifted by the P&L of the folds before it.
        for d in &direct.daily_equity {
            let s = wf.daily_equity[stitched];
            assert_eq!(s.date, d.date);
            assert!((s.equity - (d.equity + offset)).abs() < 1e-6);
            stitched += 1;
        }
        offset += direct.metrics.total_pnl;
    }
    assert_eq!(stitched, wf.daily_equity.len());
    assert_eq!(wf.daily_equity.len(), n - 500);
    let m = wf.metrics.as_ref().unwrap();
    let sum_pnl: f64 = wf
        .folds
        .iter()
        .map(|f| f.out_of_sample.metrics.total_pnl)
        .sum();
    let trades: u32 = wf
        .folds
        .iter()
        .map(|f| f.out_of_sample.metrics.trade_count)
        .sum();
    assert!((m.total_pnl - sum_pnl).abs() < 1e-6);
    assert!((wf.daily_equity.last().unwrap().equity - CAPITAL - sum_pnl).abs() < 1e-6);
    assert_eq!(m.trade_count, trades);
    assert_eq!(
        wf.equity.len(),
        wf.folds.iter().map(|f| f.out_of_sample.bars).sum::<usize>()
    );
    // Sharpe of the stitched curve, from its daily equity by hand.
    let mut prev = CAPITAL;
    let r: Vec<f64> = wf
        .daily_equity
        .iter()
        .map(|d| {
            let x = (d.equity - prev) / CAPITAL;
            prev = d.equity;
            x
        })
        .collect();
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64).sqrt();
    close(
        "stitched Sharpe",
        m.sharpe_ratio.unwrap(),
        mean / sd * 252f64.sqrt(),
    );
}

#[test]
fn walk_forward_is_the_same_bytes_on_one_and_two_threads() {
    let one = serde_json::to_string(&run_wf(ROLLING, 1)).unwrap();
    let two = serde_json::to_string(&run_wf(ROLLING, 2)).unwrap();
    assert!(
        one == two,
        "walk-forward JSON differs between 1 and 2 threads"
    );
}

#[test]
fn holdout_tests_the_in_sample_best_on_the_last_thirty_percent() {
    let dates = wf_dates();
    let k = (dates.len() as f64 * 0.7).round() as usize;
    let wf = run_wf(
        FoldPlan::Holdout {
            in_sample_fraction: 0.7,
        },
        2,
    );
    assert_eq!(wf.planned_folds, 1);
    let fold = &wf.folds[0];
    assert_eq!(
        fold.windows.in_sample,
        Window::Dates(dates[0], dates[k - 1])
    );
    assert_eq!(
        fold.windows.out_of_sample,
        Window::Dates(dates[k], *dates.last().unwrap())
    );
    // One fold: the stitched curve and metrics are the out-of-sample run's own.
    assert_eq!(wf.metrics.as_ref(), Some(&fold.out_of_sample.metrics));
    assert_eq!(wf.daily_equity, fold.out_of_sample.daily_equity);
    assert_eq!(fold.in_sample.completed, 9);
    assert_eq!(fold.chosen, fold.in_sample.best_result.clone().unwrap());
}

#[test]
fn cancelling_keeps_the_finished_folds() {
    let per_fold = wf_grid().total_combinations();
    for threads in [1, 2] {
        let cancel = AtomicBool::new(false);
        // Once the first fold's sweep is complete, ask to stop.
        let stop = |p: Progress| {
            if p.done >= per_fold {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let wf = pool(threads)
            .install(|| {
                walk_forward(
                    &wf_grid(),
                    &SweepSpec::default(),
                    &wf_dates(),
                    &wf_spec(ROLLING),
                    sma_cross,
                    &cancel,
                    &stop,
                )
            })
            .unwrap();
        assert!(wf.cancelled);
        assert_eq!(wf.folds.len(), 1);
        assert_eq!(
            wf.metrics.as_ref(),
            Some(&wf.folds[0].out_of_sample.metrics)
        );
    }
}

#[test]
fn walk_forward_errors_name_the_fold_or_field() {
    let run = |sweep: &SweepSpec, spec: &WalkForwardSpec| {
        walk_forward(
            &wf_grid(),
            sweep,
            &wf_dates(),
            spec,
            sma_cross,
            &AtomicBool::new(false),
            &no_progress,
        )
    };
    let strict = SweepSpec {
        constraints: vec![sweep::Constraint::parse("tradeCount >= 100000").unwrap()],
        ..Default::default()
    };
    let err = run(&strict, &wf_spec(ROLLING)).unwrap_err();
    assert!(
        matches!(err, GuardError::NothingChosen { fold: 0, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("in-sample window 2015-01-02.."),
        "{err}"
    );

    let wrong_capital = WalkForwardSpec {
        starting_capital: 50_000.0,
        ..wf_spec(ROLLING)
    };
    let msg = run(&SweepSpec::default(), &wrong_capital)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("`startingCapital`: 50000") && msg.contains("100000"),
        "{msg}"
    );
}

#[test]
fn walk_forward_chart_draws_every_fold_and_its_in_sample_pace() {
    use settle_engine::chart::walk_forward::IN_SAMPLE_RGB;
    use settle_engine::chart::{walk_forward_png, WalkForwardFold, EQUITY_RGB};
    let dates = wf_dates();
    let wf = run_wf(ROLLING, 2);
    let folds = WalkForwardFold::of(&wf, &dates);
    assert_eq!(folds.len(), wf.folds.len());
    // Each fold starts where the stitched curve stood: the capital plus the folds before.
    let mut start = CAPITAL;
    for (f, run) in folds.iter().zip(&wf.folds) {
        close("fold start", f.start, start);
        // 500 in-sample trading dates: the pace is the chosen's in-sample P&L over them.
        close(
            "pace",
            f.promised_per_date,
            run.chosen.metrics.total_pnl / 500.0,
        );
        assert_eq!(f.dates, run.out_of_sample.daily_equity.len());
        start += run.out_of_sample.metrics.total_pnl;
    }
    close(
        "the stitched end",
        start,
        wf.daily_equity.last().unwrap().equity,
    );
    let drawn = walk_forward_png(&wf, &dates, "ES sma cross walk-forward", 800, 500).unwrap();
    assert!(drawn.image.len() < 150_000);
    let mut reader = png::Decoder::new(std::io::Cursor::new(&drawn.image))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut pixels).unwrap();
    let count = |c: (u8, u8, u8)| pixels.chunks(3).filter(|p| (p[0], p[1], p[2]) == c).count();
    assert!(count(EQUITY_RGB) > 300, "the out-of-sample curve");
    assert!(
        count(IN_SAMPLE_RGB) > 100 * folds.len(),
        "a pace line per fold"
    );
}
