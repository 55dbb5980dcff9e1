//! How long building a front month from four quarterly contracts of one-minute bars takes
//! (`settle data continuous`: roll schedule, join, back-adjustment, recipe).
//!
//! The contracts are made from the real 6EH4 January 2024 minutes (29,996 bars), repeated
//! with shifted stamps: 6EH4, 6EM4, 6EU4 and 6EZ4 each trade six 31-day months, the next one
//! starting three months after, 20 ticks apart, so every roll has a gap to adjust. About
//! 629,916 bars in all.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use settle_data::continuous::Adjustment;
use settle_data::front_month::{build, FrontMonth};
use settle_data::roll::RollMethod;
use settle_data::{BarSize, Bars, SeriesMeta};

fn contracts() -> Vec<Bars> {
    let m = common::six_e_minutes();
    ["6EH4", "6EM4", "6EU4", "6EZ4"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let meta = SeriesMeta::new("6E", Some(name), BarSize::Minutes(1), "bench");
            let mut b = Bars::empty(meta);
            let c = b.contract_index(name);
            let up = 0.001 * k as f64;
            for month in (3 * k).saturating_sub(3)..(3 * k + 3).min(12) {
                let shift = month as i64 * 31 * 86_400;
                for i in 0..m.len() {
                    b.push(
                        m.ts[i] + shift,
                        m.open[i] + up,
                        m.high[i] + up,
                        m.low[i] + up,
                        m.close[i] + up,
                        m.volume[i],
                        c,
                    );
                }
            }
            b
        })
        .collect()
}

fn front_month(c: &mut Criterion) {
    let spec = settle_data::spec("6E").expect("6E spec");
    let contracts = contracts();
    let n: usize = contracts.iter().map(Bars::len).sum();
    let how = FrontMonth {
        roll: RollMethod::Expiry { days: 7 },
        adjustment: Adjustment::Difference,
        from: None,
        to: None,
    };
    let built = build(spec, &contracts, &how).expect("front month");
    assert_eq!(built.meta.recipe.as_ref().map(|r| r.rolls.len()), Some(3));
    c.bench_function(&format!("front_month_4_contracts_{n}_1m_bars"), |b| {
        b.iter(|| build(spec, &contracts, &how).expect("front month"))
    });
}

criterion_group!(benches, front_month);
criterion_main!(benches);
