//! The sweep Evaluator against the plain path (compile, signals, backtest) on real CL daily
//! bars, including from several threads sharing one Evaluator.

mod common;

use common::cl_daily;
use settle_data::{spec, Bars};
use settle_engine::{Metrics, Window};
use settle_strategies::rules::{self, Strategy};
use settle_strategies::run::RunError;
use settle_strategies::sweep::Evaluator;
use settle_strategies::templates;

/// A template on CL over the whole history, so every grid point trades many times.
fn template(name: &str) -> Strategy {
    let mut s = templates::get(name, "CL").unwrap();
    s.window = "all".into();
    s
}

/// An evaluator of `s` on `bars`, compiled with its own parameter values.
fn evaluator<'a>(s: &Strategy, bars: &'a Bars) -> Evaluator<'a> {
    Evaluator::new(rules::compile(s).unwrap(), bars).unwrap()
}

/// The reference: the modified strategy through the public one-shot path.
fn plain(s: &Strategy, bars: &Bars, params: &[(String, f64)]) -> Metrics {
    let pairs: Vec<(&str, f64)> = params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let s = rules::compile_with(s, &pairs).map(|c| c.strategy).unwrap();
    let c = rules::compile(&s).unwrap();
    let sp = spec("CL").unwrap();
    let sig = rules::signals(&c, bars, sp).unwrap();
    let cfg = rules::to_config(&c);
    assert_eq!(cfg.window, Window::All);
    settle_engine::backtest(bars, sp, &sig, &cfg)
        .unwrap()
        .metrics
}

fn grid(keys: [&str; 2], a: &[f64], b: &[f64]) -> Vec<Vec<(String, f64)>> {
    let mut out = Vec::new();
    for &x in a {
        for &y in b {
            out.push(vec![(keys[0].to_string(), x), (keys[1].to_string(), y)]);
        }
    }
    out
}

#[test]
fn evaluator_metrics_equal_the_plain_backtest_on_real_bars() {
    let bars = cl_daily();
    for (name, points) in [
        (
            "sma_cross",
            grid(["fast", "slow"], &[5.0, 10.0, 20.0], &[30.0, 50.0]),
        ),
        (
            "donchian_breakout",
            grid(
                ["entry_period", "exit_period"],
                &[20.0, 55.0],
                &[10.0, 20.0],
            ),
        ),
        (
            "bollinger_reversion",
            grid(["period", "nbdev"], &[10.0, 20.0], &[1.5, 2.5]),
        ),
    ] {
        let s = template(name);
        let ev = evaluator(&s, &bars);
        for p in &points {
            let want = plain(&s, &bars, p);
            assert!(want.trade_count > 10, "{name} {p:?}: {}", want.trade_count);
            assert_eq!(ev.metrics(p).unwrap(), want, "{name} {p:?}");
        }
        // A second pass is served from the cache and must not change anything.
        for p in &points {
            assert_eq!(
                ev.metrics(p).unwrap(),
                plain(&s, &bars, p),
                "{name} {p:?} again"
            );
        }
    }
}

#[test]
fn evaluator_is_shared_by_threads_with_identical_results() {
    fn assert_sync<T: Sync>(_: &T) {}
    let bars = cl_daily();
    let s = template("sma_cross");
    let points = grid(
        ["fast", "slow"],
        &[3.0, 5.0, 8.0, 10.0, 13.0],
        &[20.0, 30.0, 40.0, 60.0],
    );
    let sequential: Vec<Metrics> = {
        let ev = evaluator(&s, &bars);
        points.iter().map(|p| ev.metrics(p).unwrap()).collect()
    };
    let ev = evaluator(&s, &bars);
    assert_sync(&ev);
    // Four threads walk the grid in different orders, racing to fill the cache.
    let results: Vec<Vec<Metrics>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|k| {
                let (ev, points) = (&ev, &points);
                scope.spawn(move || {
                    let mut order: Vec<usize> = (0..points.len()).collect();
                    order.rotate_left(k * 5 % points.len());
                    if k % 2 == 1 {
                        order.reverse();
                    }
                    let mut got = vec![None; points.len()];
                    for i in order {
                        got[i] = Some(ev.metrics(&points[i]).unwrap());
                    }
                    got.into_iter().map(Option::unwrap).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in results {
        assert_eq!(r, sequential);
    }
}

#[test]
fn evaluator_reports_bad_parameters_and_wrong_series() {
    let bars = cl_daily();
    let ev = evaluator(&template("sma_cross"), &bars);
    let err = ev.metrics(&[("fats".into(), 5.0)]).unwrap_err();
    assert!(matches!(err, RunError::Invalid(_)), "{err:?}");
    let err = err.reason();
    assert!(
        err.contains("no parameter `fats`") && err.contains("fast, slow"),
        "{err}"
    );
    let err = ev.metrics(&[("fast".into(), 500.0)]).unwrap_err().reason();
    assert!(err.starts_with("/parameters/0/value:"), "{err}");
    let es = rules::compile(&templates::get("sma_cross", "ES").unwrap()).unwrap();
    let err = Evaluator::new(es, &bars).err().unwrap().to_string();
    assert!(err.contains("ES 1d") && err.contains("CL 1d"), "{err}");
}
