//! Parameter sweeps: exact grids, the cap, combination order, determinism across thread
//! counts, cancellation, failures, ranking, constraints, surfaces, CSV, and a real SMA-cross
//! sweep on ES checked against a plain sequential loop.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{json, Map, Value};
use settle_engine::sweep::{self, *};
use settle_engine::{backtest, BacktestConfig, Metrics, Signals, Window};

/// Metrics with every field 0 except the ones given (by JSON name).
fn metrics(fields: &[(&str, Value)]) -> Metrics {
    let mut obj: Map<String, Value> = metric_names()
        .iter()
        .map(|n| (n.to_string(), json!(0)))
        .collect();
    for (k, v) in fields {
        obj.insert(k.to_string(), v.clone());
    }
    serde_json::from_value(Value::Object(obj)).unwrap()
}

fn list(key: &str, values: &[f64]) -> Param {
    Param::List {
        key: key.into(),
        values: values.to_vec(),
    }
}

fn no_progress(_: Progress) {}

/// Runs with no cancellation and no progress.
fn run_plain<F>(grid: &Grid, spec: &SweepSpec, eval: F) -> SweepResult
where
    F: Fn(&[(String, f64)]) -> Result<Metrics, String> + Sync,
{
    sweep::run(grid, spec, eval, &AtomicBool::new(false), &no_progress)
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

#[test]
fn decimal_ranges_are_exact_literals() {
    let g = Grid::new(&[Param::range("x", 0.1, 1.0, 0.1)]).unwrap();
    assert_eq!(
        g.values()[0],
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    );
    // Off-lattice min, integer steps, and a max that is not on the lattice.
    let g = Grid::new(&[
        Param::range("a", 0.05, 0.45, 0.1),
        Param::range("b", 5.0, 20.0, 5.0),
        Param::range("c", 0.0, 1.05, 0.25),
        Param::range("d", 2.0, 2.0, 0.5),
    ])
    .unwrap();
    assert_eq!(g.values()[0], [0.05, 0.15, 0.25, 0.35, 0.45]);
    assert_eq!(g.values()[1], [5.0, 10.0, 15.0, 20.0]);
    assert_eq!(g.values()[2], [0.0, 0.25, 0.5, 0.75, 1.0]);
    assert_eq!(g.values()[3], [2.0]);
    assert_eq!(g.total_combinations(), 5 * 4 * 5);
}

#[test]
fn combinations_run_first_key_slowest() {
    let g = Grid::new(&[list("a", &[1.0, 2.0]), list("b", &[10.0, 20.0, 30.0])]).unwrap();
    assert_eq!(g.total_combinations(), 6);
    let all: Vec<Vec<f64>> = (0..6).map(|i| g.combination(i)).collect();
    assert_eq!(
        all,
        [
            [1.0, 10.0],
            [1.0, 20.0],
            [1.0, 30.0],
            [2.0, 10.0],
            [2.0, 20.0],
            [2.0, 30.0]
        ]
    );
    assert_eq!(g.params(4), [("a".into(), 2.0), ("b".into(), 20.0)]);
}

#[test]
fn grids_over_the_cap_are_refused_with_count_and_cap() {
    let err = Grid::new(&[
        Param::range("fast", 1.0, 1000.0, 1.0),
        Param::range("slow", 1.0, 2000.0, 1.0),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        SweepError::TooManyCombinations {
            count: 2_000_000,
            cap: 1_000_000
        }
    );
    let msg = err.to_string();
    assert!(msg.contains("2000000") && msg.contains("1000000"), "{msg}");
    // A custom cap; an absurd range is refused without being expanded.
    assert!(Grid::with_cap(&[list("a", &[1.0, 2.0, 3.0])], 2).is_err());
    assert!(Grid::with_cap(&[list("a", &[1.0, 2.0])], 2).is_ok());
    assert!(matches!(
        Grid::new(&[Param::range("x", 0.0, 1e300, 1e-300)]),
        Err(SweepError::TooManyCombinations { .. })
    ));
}

#[test]
fn bad_parameters_name_the_key() {
    let cases = [
        (vec![Param::range("fast", 1.0, 5.0, 0.0)], "fast", "step"),
        (vec![Param::range("slow", 9.0, 5.0, 1.0)], "slow", "min"),
        (vec![list("stop", &[])], "stop", "empty"),
        (vec![list("k", &[1.0, 1.0])], "k", "twice"),
        (
            vec![list("k", &[1.0]), Param::range("k", 1.0, 2.0, 1.0)],
            "k",
            "more than once",
        ),
        (vec![Param::range("nan", f64::NAN, 2.0, 1.0)], "nan", "min"),
    ];
    for (params, key, word) in cases {
        let msg = Grid::new(&params).unwrap_err().to_string();
        assert!(
            msg.contains(&format!("`{key}`")) && msg.contains(word),
            "{msg}"
        );
    }
}

/// Sharpe and trade count as simple functions of the parameters; some combinations fail.
fn synthetic(p: &[(String, f64)]) -> Result<Metrics, String> {
    let (a, b, c) = (p[0].1, p[1].1, p[2].1);
    if a == 3.0 && c == 0.5 {
        return Err(format!("a={a} c={c} is not allowed"));
    }
    if b == 20.0 && c == 1.0 {
        panic!("boom at a={a}");
    }
    Ok(metrics(&[
        ("sharpeRatio", json!(a * 0.1 - (b - 20.0).abs() * 0.01 + c)),
        ("tradeCount", json!((a * b) as u32)),
        ("totalPnl", json!(a * 1000.0 - b)),
    ]))
}

fn synthetic_grid() -> Grid {
    Grid::new(&[
        Param::range("a", 1.0, 5.0, 1.0),
        Param::range("b", 10.0, 30.0, 5.0),
        list("c", &[0.5, 1.0, 0.25]),
    ])
    .unwrap()
}

#[test]
fn same_bytes_for_one_and_two_threads() {
    let grid = synthetic_grid();
    let spec = SweepSpec::default();
    let runs: Vec<(String, Vec<u8>)> = [1, 2, 1, 2]
        .iter()
        .map(|&n| {
            let r = pool(n).install(|| run_plain(&grid, &spec, synthetic));
            let mut csv = Vec::new();
            r.write_csv(&mut csv).unwrap();
            (serde_json::to_string(&r).unwrap(), csv)
        })
        .collect();
    for r in &runs[1..] {
        assert_eq!(r, &runs[0]);
    }
}

#[test]
fn failures_and_panics_are_counted_and_the_sweep_goes_on() {
    let grid = synthetic_grid();
    let r = run_plain(&grid, &SweepSpec::default(), synthetic);
    assert_eq!(r.total_combinations, 75);
    assert_eq!(r.completed, 75);
    assert!(!r.cancelled);
    // a=3, c=0.5: 5 values of b. b=20, c=1.0: 5 values of a.
    assert_eq!(r.failed_count, 10);
    assert_eq!(r.rows.len(), 65);
    let panics: Vec<&Failure> = r
        .failures
        .iter()
        .filter(|f| f.reason.starts_with("panicked: boom"))
        .collect();
    assert_eq!(panics.len(), 5);
    assert_eq!(panics[0].params, [1.0, 20.0, 1.0]);
    assert_eq!(panics[0].reason, "panicked: boom at a=1");
    let errs: Vec<&Failure> = r
        .failures
        .iter()
        .filter(|f| f.reason.contains("not allowed"))
        .collect();
    assert_eq!(errs.len(), 5);
    assert!(errs
        .iter()
        .all(|f| f.params[0] == 3.0 && f.params[2] == 0.5));
    // Rows and failures are each in combination order.
    assert!(r.rows.windows(2).all(|w| w[0].index < w[1].index));
    assert!(r.failures.windows(2).all(|w| w[0].index < w[1].index));
}

#[test]
fn cancelling_keeps_every_finished_result() {
    let grid = synthetic_grid();
    for threads in [1, 2] {
        let cancel = AtomicBool::new(false);
        let stop_after = |p: Progress| {
            if p.done >= 8 {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let r = pool(threads).install(|| {
            sweep::run(
                &grid,
                &SweepSpec::default(),
                synthetic,
                &cancel,
                &stop_after,
            )
        });
        assert!(r.cancelled);
        assert_eq!(r.completed, r.rows.len() + r.failed_count);
        if threads == 1 {
            // One thread runs in combination order and stops right after the 8th.
            assert_eq!(r.completed, 8);
            let done: Vec<usize> = r.rows.iter().map(|row| row.index).collect();
            assert_eq!(done, [0, 1, 2, 3, 4, 5, 6]);
            // Index 7 is (a 1, b 20, c 1.0), which panics: a finished failure is kept too.
            assert_eq!(r.failures.len(), 1);
            assert_eq!(r.failures[0].index, 7);
        } else {
            // Each worker may finish the combination it had started.
            assert!((8..=9).contains(&r.completed), "{}", r.completed);
        }
        // Every kept row holds the right metrics for its parameters.
        for row in &r.rows {
            let p = grid.params(row.index);
            assert_eq!(row.params, grid.combination(row.index));
            assert_eq!(row.metrics, synthetic(&p).unwrap());
        }
    }
}

#[test]
fn progress_counts_every_combination() {
    let grid = synthetic_grid();
    let seen = std::sync::Mutex::new(Vec::new());
    let record = |p: Progress| seen.lock().unwrap().push(p);
    pool(2).install(|| {
        sweep::run(
            &grid,
            &SweepSpec::default(),
            synthetic,
            &AtomicBool::new(false),
            &record,
        )
    });
    let mut seen = seen.into_inner().unwrap();
    seen.sort_by_key(|p| p.done);
    let done: Vec<usize> = seen.iter().map(|p| p.done).collect();
    assert_eq!(done, (1..=75).collect::<Vec<_>>());
    assert!(seen.iter().all(|p| p.total == 75 && p.rate_per_sec >= 0.0));
    assert_eq!(seen.last().unwrap().eta_secs.unwrap_or(0.0), 0.0);
}

/// A one-key sweep whose objective values are `values[i]` (`None` = null).
fn ranked(values: &[Option<f64>], spec: &SweepSpec) -> SweepResult {
    let grid = Grid::new(&[Param::range("i", 0.0, (values.len() - 1) as f64, 1.0)]).unwrap();
    run_plain(&grid, spec, |p| {
        let i = p[0].1 as usize;
        Ok(metrics(&[
            ("sharpeRatio", json!(values[i])),
            ("tradeCount", json!(i as u32 * 10)),
        ]))
    })
}

#[test]
fn best_is_the_lowest_index_among_ties_and_null_never_wins() {
    let spec = SweepSpec::default();
    let r = ranked(
        &[Some(0.5), None, Some(1.5), Some(-1.0), Some(1.5), None],
        &spec,
    );
    let best = r.best_result.clone().unwrap();
    assert_eq!((best.index, best.objective), (2, 1.5));
    assert_eq!(best.params, [("i".to_string(), 2.0)]);
    // Combination 0 made no trade (tradeCount 10 × i): it never ranks, whatever its value.
    let top: Vec<usize> = r.top(10).iter().map(|t| t.index).collect();
    assert_eq!(top, [2, 4, 3]);
    let r = ranked(&[Some(9.0), Some(0.5)], &spec);
    assert_eq!(r.best_result.unwrap().index, 1);

    let min = SweepSpec {
        objective: Objective::new("sharpeRatio", Direction::Min).unwrap(),
        constraints: vec![],
    };
    let r = ranked(&[None, Some(0.5), Some(-1.0), Some(-1.0)], &min);
    assert_eq!(r.best_result.unwrap().index, 2);

    let r = ranked(&[None, None], &spec);
    assert_eq!(r.best_result, None);
    assert!(r.top(3).is_empty());
}

#[test]
fn constraints_filter_the_best() {
    let c = Constraint::parse(" tradeCount >= 30 ").unwrap();
    assert_eq!(
        (c.metric.as_str(), c.op, c.value),
        ("tradeCount", Op::Ge, 30.0)
    );
    let spec = SweepSpec {
        objective: Objective::default(),
        constraints: vec![c, Constraint::parse("sharpeRatio<2").unwrap()],
    };
    // tradeCount is 10 * index: indices 0..=2 fail `>= 30`; index 4 fails `< 2`.
    let r = ranked(
        &[
            Some(9.0),
            Some(9.0),
            Some(9.0),
            Some(1.0),
            Some(2.0),
            Some(1.5),
        ],
        &spec,
    );
    assert_eq!(r.best_result.as_ref().unwrap().index, 5);
    let top: Vec<usize> = r.top(5).iter().map(|t| t.index).collect();
    assert_eq!(top, [5, 3]);

    for (text, op) in [
        ("a > 1", Op::Gt),
        ("a <= 1", Op::Le),
        ("a < 1", Op::Lt),
        ("a == 1", Op::Eq),
    ] {
        let text = text.replace('a', "totalPnl");
        assert_eq!(Constraint::parse(&text).unwrap().op, op);
    }
}

#[test]
fn unknown_metrics_and_bad_constraints_are_errors() {
    let msg = Objective::new("sharpe", Direction::Max)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("`sharpe`") && msg.contains("sharpeRatio, "),
        "{msg}"
    );
    assert!(metric_names().starts_with(&["tradeCount", "totalPnl", "winRate", "maxDrawdown"]));
    let msg = Constraint::parse("trades >= 30").unwrap_err().to_string();
    assert!(
        msg.contains("`trades`") && msg.contains("tradeCount"),
        "{msg}"
    );
    let msg = Constraint::parse("tradeCount ~ 30")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("tradeCount ~ 30"), "{msg}");
    let msg = Constraint::parse("tradeCount >= lots")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("`lots` is not a number"), "{msg}");
}

#[test]
fn surface_is_a_matrix_over_the_two_keys() {
    let grid = Grid::new(&[
        list("fast", &[5.0, 10.0, 20.0]),
        Param::range("slow", 50.0, 200.0, 50.0),
    ])
    .unwrap();
    let r = run_plain(&grid, &SweepSpec::default(), |p| {
        let (fast, slow) = (p[0].1, p[1].1);
        if fast == 10.0 && slow == 150.0 {
            return Err("skip".into());
        }
        Ok(metrics(&[("totalPnl", json!(fast * 1000.0 + slow))]))
    });
    let s = r.surface("totalPnl").unwrap();
    assert_eq!((s.x_key.as_str(), s.y_key.as_str()), ("fast", "slow"));
    assert_eq!(s.x_values, [5.0, 10.0, 20.0]);
    assert_eq!(s.y_values, [50.0, 100.0, 150.0, 200.0]);
    assert_eq!(s.z.len(), 4);
    assert!(s.z.iter().all(|row| row.len() == 3));
    assert_eq!(s.z[0], [Some(5050.0), Some(10050.0), Some(20050.0)]);
    assert_eq!(s.z[2], [Some(5150.0), None, Some(20150.0)]);
    assert!(r.surface("nope").is_err());
    let three = run_plain(&synthetic_grid(), &SweepSpec::default(), synthetic);
    assert_eq!(
        three.surface("totalPnl").unwrap_err(),
        SweepError::NotTwoParameters(3)
    );
}

#[test]
fn csv_has_a_fixed_column_order_and_every_finished_row() {
    let grid = Grid::new(&[
        list("a", &[1.0, 3.0]),
        list("b", &[10.0, 20.0]),
        list("c", &[0.5]),
    ])
    .unwrap();
    let r = run_plain(&grid, &SweepSpec::default(), synthetic);
    let mut out = Vec::new();
    r.write_csv(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header = format!("index,a,b,c,status,{},reason", metric_names().join(","));
    assert_eq!(lines[0], header);
    assert_eq!(lines.len(), 5);
    // Row 0: a=1, b=10, c=0.5 → tradeCount 10, totalPnl 990, sharpe 0.1 - 0.1 + 0.5.
    assert!(
        lines[1].starts_with("0,1,10,0.5,ok,10,990,0,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with(','), "{}", lines[1]);
    let blanks = ",".repeat(metric_names().len());
    assert_eq!(
        lines[3],
        format!("2,3,10,0.5,failed{blanks},a=3 c=0.5 is not allowed")
    );
}

// ---- A real sweep: SMA cross on ES daily back-adjusted prices ----

fn sma(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|t| {
            if t + 1 < n {
                f64::NAN
            } else {
                x[t + 1 - n..=t].iter().sum::<f64>() / n as f64
            }
        })
        .collect()
}

/// Long when the fast SMA crosses above the slow one, short when it crosses below.
fn sma_cross(bars: &settle_data::Bars, fast: usize, slow: usize) -> Result<Metrics, String> {
    let (f, s) = (sma(&bars.close, fast), sma(&bars.close, slow));
    let mut sig = Signals::none(bars.len());
    for t in 1..bars.len() {
        sig.long_entry[t] = f[t] > s[t] && f[t - 1] <= s[t - 1];
        sig.short_entry[t] = f[t] < s[t] && f[t - 1] >= s[t - 1];
    }
    let cfg = BacktestConfig {
        window: Window::All,
        ..Default::default()
    };
    let spec = settle_data::spec("ES").map_err(|e| e.to_string())?;
    backtest(bars, spec, &sig, &cfg)
        .map(|r| r.metrics)
        .map_err(|e| e.to_string())
}

#[test]
fn real_sma_cross_sweep_matches_a_sequential_loop() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/raw/pysystemtrade/adjusted_prices_csv/SP500.csv"
    );
    let bars = settle_data::import::pysystemtrade::adjusted_prices(path.as_ref(), "ES").unwrap();
    assert!(bars.len() > 10_000, "{} bars", bars.len());
    let (fasts, slows) = ([5.0, 10.0, 20.0], [50.0, 100.0, 200.0]);
    let grid = Grid::new(&[list("fast", &fasts), list("slow", &slows)]).unwrap();
    let r = pool(2).install(|| {
        run_plain(&grid, &SweepSpec::default(), |p| {
            sma_cross(&bars, p[0].1 as usize, p[1].1 as usize)
        })
    });
    assert_eq!((r.completed, r.failed_count), (9, 0));

    // The same nine backtests, one after another, keeping the first strict maximum.
    let mut best: Option<(f64, f64, Metrics)> = None;
    for &fast in &fasts {
        for &slow in &slows {
            let m = sma_cross(&bars, fast as usize, slow as usize).unwrap();
            assert!(
                m.trade_count > 10,
                "fast {fast} slow {slow}: {}",
                m.trade_count
            );
            let sharpe = m.sharpe_ratio.unwrap();
            if best
                .as_ref()
                .is_none_or(|b| sharpe > b.2.sharpe_ratio.unwrap())
            {
                best = Some((fast, slow, m));
            }
        }
    }
    let (fast, slow, m) = best.unwrap();
    let got = r.best_result.unwrap();
    assert_eq!(got.params, [("fast".into(), fast), ("slow".into(), slow)]);
    assert_eq!(got.metrics, m);
    assert_eq!(got.objective, m.sharpe_ratio.unwrap());
}
