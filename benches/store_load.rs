//! How long loading a year of one-minute bars from the store takes.
//!
//! The year is built from the real 6EH4 January 2024 minutes (29,996 bars), repeated twelve
//! times with shifted stamps: ~360,000 bars, about one year of a 23-hour Globex market.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use settle_data::store::Store;
use settle_data::BarSize;

fn year_of_minutes() -> settle_data::Bars {
    let m = common::six_e_minutes();
    let mut year = settle_data::Bars::empty(m.meta.clone());
    for k in 0..12 {
        let shift = k * 31 * 86_400;
        for i in 0..m.len() {
            year.push(
                m.ts[i] + shift,
                m.open[i],
                m.high[i],
                m.low[i],
                m.close[i],
                m.volume[i],
                m.contract[i],
            );
        }
    }
    year
}

fn load(c: &mut Criterion) {
    let home = tempfile::tempdir().expect("tempdir");
    let store = Store::open(home.path()).expect("store");
    let year = year_of_minutes();
    store.import(std::slice::from_ref(&year)).expect("import");
    c.bench_function(&format!("store_load_{}_1m_bars", year.len()), |b| {
        b.iter(|| {
            store
                .find("6E", Some("6EH4"), BarSize::Minutes(1))
                .expect("load")
        })
    });
}

criterion_group!(benches, load);
criterion_main!(benches);
