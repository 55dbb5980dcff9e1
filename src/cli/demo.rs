//! `settle demo`: the README's main job on the sample data.

use std::path::{Path, PathBuf};

use settle_data::store::Store;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The shared data directory (default: ../shared/data, or $SETTLE_SHARED_DATA).
    #[arg(long, env = "SETTLE_SHARED_DATA", default_value = "../shared/data")]
    data: PathBuf,
}

pub fn run(home: &Path, a: &DemoArgs) -> anyhow::Result<()> {
    let store = Store::open(home)?;
    if store.list()?.is_empty() {
        eprintln!(
            "first run: importing the sample data from {} ...",
            a.data.display()
        );
        let t = std::time::Instant::now();
        let n = settle_data::sample::import(&store, &a.data)?.len();
        eprintln!("imported {n} series in {:.1} s", t.elapsed().as_secs_f64());
    }
    println!("store: {}", home.display());
    super::data::print_entries(&store.list()?, false)
}
