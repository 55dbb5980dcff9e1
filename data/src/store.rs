//! The on-disk columnar store under `$SETTLE_HOME/store` (default `~/.settle/store`).
//!
//! Each series is one Arrow IPC file written by polars (`<symbol>/<contract|continuous>/<bar>.arrow`);
//! `catalog.json` lists them with their span, row count, source and a content fingerprint.
//! Daily series are stored on session dates (see [`crate::session_dates`]).
//! Imports are atomic: every file of an import is written under a temporary name first and
//! the catalog is replaced in one rename, so a failed import leaves the store as it was.

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bars::{BarSize, Bars, SeriesMeta};
use crate::error::{DataError, Result};

/// One series in the store, as `settle data list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Store key, `<symbol>/<contract|continuous>/<bar>`, e.g. `ES/continuous/1d`.
    pub key: String,
    /// Root symbol, e.g. `ES`.
    pub symbol: String,
    /// `contract`, `continuous` or `nearby` (an unadjusted n-th nearby such as `CL1`).
    pub kind: String,
    /// The single contract, e.g. `ESZ13`; `None` for continuous and nearby series.
    pub contract: Option<String>,
    /// Length of one bar.
    pub bar_size: BarSize,
    /// First bar's open time, RFC 3339 UTC.
    pub first: String,
    /// Last bar's open time, RFC 3339 UTC.
    pub last: String,
    /// Number of bars stored.
    pub rows: usize,
    /// Source file or importer, as recorded in the series' metadata.
    pub source: String,
    /// First 16 hex digits of the SHA-256 of the series' columns.
    pub fingerprint: String,
    /// True when the series has closes only (stops and targets are checked on closes).
    pub close_only: bool,
    /// Back-adjustment of a continuous series (`none`, `difference`, `ratio`).
    pub adjustment: String,
    /// Contracts the series' bars come from, in the order the bars index them.
    pub contracts: Vec<String>,
    /// How settle built this front-month series, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<crate::front_month::Recipe>,
}

/// Handle on a store directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// `$SETTLE_HOME`, else `~/.settle`.
pub fn default_home() -> PathBuf {
    if let Some(h) = std::env::var_os("SETTLE_HOME") {
        return PathBuf::from(h);
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".settle")
}

impl Store {
    /// Opens (creating if needed) the store under `home`.
    pub fn open(home: &Path) -> Result<Store> {
        let root = home.join("store");
        fs::create_dir_all(&root).map_err(|e| DataError::io(&root, e))?;
        Ok(Store { root })
    }

    fn catalog_path(&self) -> PathBuf {
        self.root.join("catalog.json")
    }

    /// Every series in the store, sorted by key.
    pub fn list(&self) -> Result<Vec<Entry>> {
        let p = self.catalog_path();
        match fs::read(&p) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| DataError::Store(format!("{}: corrupt catalog: {e}", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(DataError::io(p, e)),
        }
    }

    /// Writes all `series` (replacing same-key series) atomically; returns their entries.
    pub fn import(&self, series: &[Bars]) -> Result<Vec<Entry>> {
        let mut written: Vec<(PathBuf, PathBuf)> = Vec::new();
        let result = (|| {
            let mut entries = Vec::new();
            for (i, b) in series.iter().enumerate() {
                let key = b.meta.key();
                if series[..i].iter().any(|o| o.meta.key() == key) {
                    return Err(DataError::Invalid(format!(
                        "{key} appears twice in one import"
                    )));
                }
                let dated;
                let b = match crate::specs::spec(&b.meta.symbol) {
                    Ok(spec) if !b.meta.bar_size.is_intraday() => {
                        dated = crate::session_dates::on_session_dates(b.clone(), spec);
                        &dated
                    }
                    _ => b,
                };
                if b.is_empty() {
                    return Err(DataError::Invalid(format!(
                        "{}: no bars to import",
                        b.meta.key()
                    )));
                }
                b.validate(&b.meta.key(), None)?;
                let path = self.path_of(&b.meta.key());
                let tmp = path.with_extension("arrow.tmp");
                if let Some(dir) = tmp.parent() {
                    fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
                }
                // Listed before it is written, so a write that fails midway (a full disk) is
                // removed with the others.
                written.push((tmp.clone(), path));
                write_ipc(b, &tmp)?;
                entries.push(entry_of(b));
            }
            Ok(entries)
        })();
        let entries = match result {
            Ok(e) => e,
            Err(e) => {
                for (tmp, _) in &written {
                    let _ = fs::remove_file(tmp);
                }
                return Err(e);
            }
        };
        // Two imports in one process (the MCP server runs each as an operation) would
        // otherwise read the same catalog and each write it back without the other's series.
        static CATALOG: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _writing = CATALOG.lock().unwrap_or_else(|p| p.into_inner());
        for (tmp, path) in &written {
            fs::rename(tmp, path).map_err(|e| DataError::io(path, e))?;
        }
        let mut catalog = self.list()?;
        catalog.retain(|c| !entries.iter().any(|e| e.key == c.key));
        catalog.extend(entries.iter().cloned());
        catalog.sort_by(|a, b| a.key.cmp(&b.key));
        let json =
            serde_json::to_vec_pretty(&catalog).map_err(|e| DataError::Store(e.to_string()))?;
        let tmp = self.catalog_path().with_extension("json.tmp");
        fs::write(&tmp, json).map_err(|e| DataError::io(&tmp, e))?;
        fs::rename(&tmp, self.catalog_path()).map_err(|e| DataError::io(self.catalog_path(), e))?;
        Ok(entries)
    }

    /// Loads one series by key (`ES/continuous/1d`).
    pub fn load(&self, key: &str) -> Result<Bars> {
        let entry = self
            .list()?
            .into_iter()
            .find(|e| e.key == key)
            .ok_or_else(|| DataError::NotFound(key.to_string()))?;
        read_ipc(&self.path_of(key), &entry)
    }

    /// Loads the series of `symbol` at `bar_size`: the named contract, or the continuous one.
    pub fn find(&self, symbol: &str, contract: Option<&str>, bar_size: BarSize) -> Result<Bars> {
        let meta = SeriesMeta::new(&symbol.to_ascii_uppercase(), contract, bar_size, "");
        self.load(&meta.key())
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.root.join(format!("{key}.arrow"))
    }
}

fn entry_of(b: &Bars) -> Entry {
    let rfc = |i: usize| b.time(i).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Entry {
        key: b.meta.key(),
        symbol: b.meta.symbol.clone(),
        kind: match &b.meta.contract {
            None => "continuous",
            // A generic name such as `CL1`: the unadjusted n-th nearby, not one contract.
            Some(c) if crate::continuous::contract_month(c).is_none() => "nearby",
            Some(_) => "contract",
        }
        .into(),
        contract: b.meta.contract.clone(),
        bar_size: b.meta.bar_size,
        first: rfc(0),
        last: rfc(b.len() - 1),
        rows: b.len(),
        source: b.meta.source.clone(),
        fingerprint: fingerprint(b),
        close_only: b.meta.close_only,
        adjustment: b.meta.adjustment.clone(),
        contracts: b.meta.contracts.clone(),
        recipe: b.meta.recipe.clone(),
    }
}

/// SHA-256 over the little-endian bytes of every column, in a fixed order.
pub fn fingerprint(b: &Bars) -> String {
    let mut h = Sha256::new();
    hash_words(&mut h, b.ts.iter().map(|t| t.to_le_bytes()));
    for col in [&b.open, &b.high, &b.low, &b.close, &b.volume] {
        hash_words(&mut h, col.iter().map(|v| v.to_le_bytes()));
    }
    hash_words(&mut h, b.contract.iter().map(|c| c.to_le_bytes()));
    for c in &b.meta.contracts {
        h.update(c.as_bytes());
        h.update([0]);
    }
    h.finalize()[..8]
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Feeds `words` to `h` through a buffer: the same bytes, hence the same digest, as one
/// `update` per word, at the hasher's block speed rather than a call per value.
fn hash_words<const N: usize>(h: &mut Sha256, words: impl Iterator<Item = [u8; N]>) {
    let mut buf = [0u8; 8192];
    let mut used = 0;
    for w in words {
        if used + N > buf.len() {
            h.update(&buf[..used]);
            used = 0;
        }
        buf[used..used + N].copy_from_slice(&w);
        used += N;
    }
    h.update(&buf[..used]);
}

fn polars_err(path: &Path, e: PolarsError) -> DataError {
    DataError::Store(format!("{}: {e}", path.display()))
}

fn write_ipc(b: &Bars, path: &Path) -> Result<()> {
    let contract: Vec<u32> = b.contract.iter().map(|&c| u32::from(c)).collect();
    let mut df = DataFrame::new(
        b.len(),
        vec![
            Column::new("ts".into(), &b.ts),
            Column::new("open".into(), &b.open),
            Column::new("high".into(), &b.high),
            Column::new("low".into(), &b.low),
            Column::new("close".into(), &b.close),
            Column::new("volume".into(), &b.volume),
            Column::new("contract".into(), contract),
        ],
    )
    .map_err(|e| polars_err(path, e))?;
    let mut f = fs::File::create(path).map_err(|e| DataError::io(path, e))?;
    IpcWriter::new(&mut f)
        .finish(&mut df)
        .map_err(|e| polars_err(path, e))
}

fn read_ipc(path: &Path, entry: &Entry) -> Result<Bars> {
    let f = fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut df = IpcReader::new(f)
        .finish()
        .map_err(|e| polars_err(path, e))?;
    let mut take = |name: &str| -> Result<Series> {
        df.drop_in_place(name)
            .map(Column::take_materialized_series)
            .map_err(|e| polars_err(path, e))
    };
    let f64s = |s: Series| -> Result<Vec<f64>> {
        s.f64().map_err(|e| polars_err(path, e))?;
        Ok(values(s.take_inner::<Float64Type>()))
    };
    let ts = take("ts")?;
    ts.i64().map_err(|e| polars_err(path, e))?;
    let ts = values(ts.take_inner::<Int64Type>());
    let contract = take("contract")?
        .u32()
        .map_err(|e| polars_err(path, e))?
        .into_no_null_iter()
        .map(|c| c as u16)
        .collect();
    let mut meta = SeriesMeta::new(
        &entry.symbol,
        entry.contract.as_deref(),
        entry.bar_size,
        &entry.source,
    );
    meta.close_only = entry.close_only;
    meta.contracts = entry.contracts.clone();
    meta.adjustment = entry.adjustment.clone();
    meta.recipe = entry.recipe.clone();
    meta.fingerprint = Some(entry.fingerprint.clone());
    Ok(Bars {
        meta,
        ts,
        open: f64s(take("open")?)?,
        high: f64s(take("high")?)?,
        low: f64s(take("low")?)?,
        close: f64s(take("close")?)?,
        volume: f64s(take("volume")?)?,
        contract,
    })
}

/// The values of a stored column, which has no nulls. A file the store wrote holds each
/// column in one piece, which the reader has just read into a vector of its own: that vector
/// is taken as it is, so a million bars are not copied a second time (nor their pages
/// faulted twice). Any further piece is appended.
fn values<T>(c: ChunkedArray<T>) -> Vec<T::Native>
where
    T: PolarsNumericType,
{
    let mut out = Vec::new();
    for piece in c.downcast_into_iter() {
        let (_, buffer, _) = piece.into_inner();
        if out.is_empty() {
            out = buffer.into_mut().right_or_else(|b| b.to_vec());
        } else {
            out.extend_from_slice(&buffer);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column read in more than one piece gives all its values, in order: the first
    /// piece's vector is taken over and the others appended.
    #[test]
    fn a_column_in_pieces_gives_every_value_in_order() {
        let mut c = Float64Chunked::from_slice("x".into(), &[1.0, 2.0]);
        c.append(&Float64Chunked::from_slice("x".into(), &[3.0]))
            .unwrap();
        assert_eq!(c.chunks().len(), 2);
        assert_eq!(values(c), [1.0, 2.0, 3.0]);
        assert_eq!(values(Int64Chunked::from_slice("t".into(), &[7])), [7]);
    }

    /// The buffered fingerprint hashes the bytes one `update` per value would: the catalog's
    /// stored fingerprints stay valid.
    #[test]
    fn buffered_fingerprint_is_the_per_value_digest() {
        let mut b = Bars::empty(SeriesMeta::new("ES", None, BarSize::Minutes(1), "test"));
        let (z3, h4) = (b.contract_index("ESZ3"), b.contract_index("ESH4"));
        for i in 0..3_000i64 {
            let p = 4_000.0 + (i % 97) as f64 * 0.25;
            b.push(
                i * 60,
                p,
                p + 1.0,
                p - 1.0,
                p + 0.5,
                i as f64,
                if i < 1_500 { z3 } else { h4 },
            );
        }
        let mut h = Sha256::new();
        b.ts.iter().for_each(|t| h.update(t.to_le_bytes()));
        for col in [&b.open, &b.high, &b.low, &b.close, &b.volume] {
            col.iter().for_each(|v| h.update(v.to_le_bytes()));
        }
        b.contract.iter().for_each(|c| h.update(c.to_le_bytes()));
        for c in &b.meta.contracts {
            h.update(c.as_bytes());
            h.update([0]);
        }
        let want: String = h.finalize()[..8]
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect();
        assert_eq!(fingerprint(&b), want);
    }

    /// Imports from many threads at once (the MCP server runs each as an operation) all land
    /// in the catalog: none writes back a catalog read before another's import finished.
    #[test]
    fn concurrent_imports_keep_every_series() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        std::thread::scope(|scope| {
            for k in 0..8 {
                let store = &store;
                scope.spawn(move || {
                    for round in 0..5 {
                        let contract = format!("ESZ{}", k * 5 + round);
                        let meta = SeriesMeta::new(
                            "ES",
                            Some(contract.as_str()),
                            BarSize::Minutes(1),
                            "t",
                        );
                        let mut b = Bars::empty(meta);
                        let c = b.contract_index(&contract);
                        for i in 0..10i64 {
                            b.push(
                                1_700_000_040 + i * 60,
                                4000.0,
                                4001.0,
                                3999.0,
                                4000.5,
                                1.0,
                                c,
                            );
                        }
                        store.import(&[b]).unwrap();
                    }
                });
            }
        });
        assert_eq!(store.list().unwrap().len(), 40);
    }
}
