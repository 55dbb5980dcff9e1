//! The sweep benchmark: the `sma_cross` template over a 10 × 10 grid (fast 5..=50 step 5,
//! slow 60..=240 step 20: 100 combinations) on 100,000 and on 1,000,000 one-minute ES bars,
//! through the same path as `settle sweep` (strategy language, shared indicator cache, rayon
//! over every core, full metrics per combination). Criterion's throughput is bar-evaluations
//! per second (bars × combinations / wall seconds).
//! Run: `cargo bench --bench sweep`. The side-by-side run against vectorbt is
//! `scripts/bench-vs-peers.sh`.

use std::sync::atomic::AtomicBool;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use settle_data::{spec, synthetic};
use settle_engine::sweep::{self, Grid, Param, SweepSpec};
use settle_strategies::sweep::Evaluator;
use settle_strategies::{rules, templates};

fn bench(c: &mut Criterion) {
    let mut strategy = templates::get("sma_cross", "ES").expect("sma_cross template");
    strategy.bar_size = "1m".into();
    strategy.window = "all".into();
    let es = spec("ES").expect("ES in the catalog");
    let compiled = rules::compile(&strategy).expect("sma_cross compiles");
    let grid = Grid::new(&[
        Param::range("fast", 5.0, 50.0, 5.0),
        Param::range("slow", 60.0, 240.0, 20.0),
    ])
    .expect("valid grid");
    assert_eq!(grid.total_combinations(), 100);
    let sweep_spec = SweepSpec::default();

    let mut group = c.benchmark_group("sweep_sma_cross_100");
    group.sample_size(10);
    for n in [100_000, 1_000_000] {
        let b = synthetic::random_walk(es, 4800.0, n);
        group.throughput(Throughput::Elements((n * grid.total_combinations()) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &b, |bench, b| {
            bench.iter(|| {
                // A fresh evaluator each time: the indicator cache is part of the cost.
                let ev = Evaluator::new(compiled.clone(), b).expect("strategy fits the bars");
                let r = sweep::run(
                    &grid,
                    &sweep_spec,
                    |p| ev.metrics(p).map_err(|e| e.reason()),
                    &AtomicBool::new(false),
                    &|_| {},
                );
                assert_eq!(r.failed_count, 0);
                r
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
