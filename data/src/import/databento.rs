//! Databento DBN files (`.dbn`, `.dbn.zst`; DBN versions 1 to 3): OHLCV bars of one or many
//! CME instruments, decoded by the `dbn` crate (Databento's reference decoder).
//!
//! Everything settle needs comes from the file: the schema gives the bar size, the metadata's
//! date-ranged symbol mappings give each `instrument_id`'s symbol, and the symbol gives the root
//! (checked against the spec catalog).
//!
//! * `stype_in = raw_symbol` (`ESH1`, `6EH4`): one per-contract series per raw symbol,
//!   `<ROOT>/<raw symbol>/<bar>`.
//! * `stype_in = continuous` (`ES.c.0`, `ES.v.0`, `ES.n.0`): one `<ROOT>/continuous/<bar>`
//!   series. The metadata maps a continuous symbol to the *instrument_id* held on each date, not
//!   to a raw symbol, so each bar's contract is named from the file's definition record for that
//!   id when there is one, and otherwise by the id itself (`id:<instrument_id>`); the series'
//!   `source` says which. Rolls stay exact either way, because the id changes at the roll.
//!
//! `ts_event` is the bar's open (nanoseconds, UTC) and becomes settle's `ts`; ohlcv-1d bars are
//! Databento's UTC days, stamped with that date. Prices are integers in units of 1e-9: each one
//! is checked on the spec's tick grid as an integer (so the check is exact), and then becomes the
//! `f64` nearest the decimal it denotes (`nanos / 1e9`, correctly rounded), the same value a CSV
//! holding that decimal parses to. Definition records, when present, must carry the catalog's
//! tick size. ohlcv-1s is refused: settle's finest bar is one minute.
//!
//! Errors name the file and the byte offset of the record at fault (in the decompressed stream
//! for `.zst` files). A record cut off by the end of the file is an error, never a silent drop.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use dbn::compat::InstrumentDefRec;
use dbn::decode::{DbnDecoder, DbnMetadata, DecodeRecordRef, DynReader};
use dbn::{
    HasRType, Metadata, OhlcvMsg, RecordRef, SType, Schema, TsSymbolMap, VersionUpgradePolicy,
};

use super::csv_ohlcv::file_name;
use super::text;
use crate::bars::{BarSize, Bars, SeriesMeta};
use crate::error::{DataError, Result};
use crate::specs::{spec, ContractSpec};

/// The DBN prefix: `DBN` then the version byte, then the metadata length (u32, little endian).
const PREFIX_LEN: u64 = 8;
const NANOS: i64 = 1_000_000_000;

/// True when `path` is named `.dbn` / `.dbn.zst`, or starts with the DBN prefix.
pub fn is_dbn(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".dbn") || name.ends_with(".dbn.zst") {
        return true;
    }
    let mut head = [0u8; 3];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"DBN")
}

/// Reads every OHLCV series in the DBN file at `path` (plain or zstd-compressed).
pub fn read(path: &Path) -> Result<Vec<Bars>> {
    let f = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    read_from(f, &text::display(path))
}

/// [`read`] over any reader; `file` names the input in errors and, by its last component, in
/// the series' source.
pub fn read_from(input: impl Read, file: &str) -> Result<Vec<Bars>> {
    let stream = DynReader::new_inferred(input)
        .map_err(|e| DataError::Invalid(format!("{file}: cannot tell plain DBN from zstd: {e}")))?;
    let origin = Origin {
        file: file.to_string(),
        name: file_name(Path::new(file)),
        compressed: stream.is_compressed(),
    };
    let at = |offset: u64, field: &str, problem: String| origin.at(offset, field, problem);
    let mut decoder =
        DbnDecoder::with_upgrade_policy(Tally::new(stream), VersionUpgradePolicy::AsIs)
            .map_err(|e| at(0, "metadata", format!("not a readable DBN header: {e}")))?;
    let meta = decoder.metadata().clone();
    let bar_size = bar_size_of(meta.schema).map_err(|p| at(0, "schema", p))?;
    let symbols = meta
        .symbol_map()
        .map_err(|e| at(0, "mappings", e.to_string()))?;
    let mut reader = Reader::new(&origin, &meta, symbols, bar_size);
    let mut offset = decoder.get_ref().records_start();
    loop {
        let rec = match decoder.decode_record_ref() {
            Ok(Some(rec)) => rec,
            Ok(None) => break,
            Err(e) => {
                let problem = format!("corrupt record: {e}");
                return Err(match decoder.get_ref().misframed {
                    Some((bad, size)) => at(bad, "length", misframed(size)),
                    None => at(offset, "record", problem),
                });
            }
        };
        reader
            .record(&rec, offset)
            .map_err(|(field, p)| at(offset, field, p))?;
        offset += rec.header().record_size() as u64;
    }
    let tally = decoder.get_ref();
    if tally.cut_short || tally.delivered > offset {
        return Err(at(
            offset,
            "record",
            format!(
                "the file ends inside this record ({} bytes follow it, the stream is truncated \
                 or corrupt)",
                tally.delivered.saturating_sub(offset)
            ),
        ));
    }
    reader.finish()
}

/// settle's bar size for an OHLCV schema; anything else is refused, naming what was found.
fn bar_size_of(schema: Option<Schema>) -> std::result::Result<BarSize, String> {
    const READS: &str = "settle reads the OHLCV schemas ohlcv-1m, ohlcv-1h and ohlcv-1d";
    match schema {
        Some(Schema::Ohlcv1M) => Ok(BarSize::Minutes(1)),
        Some(Schema::Ohlcv1H) => Ok(BarSize::Minutes(60)),
        Some(Schema::Ohlcv1D) => Ok(BarSize::Daily),
        Some(Schema::Ohlcv1S) => Err(format!(
            "the file holds ohlcv-1s (one-second bars) but settle's finest bar is one minute; \
             {READS} (request ohlcv-1m from Databento)"
        )),
        Some(other) => Err(format!("the file holds {other} records, not bars; {READS}")),
        None => Err(format!(
            "the file mixes several schemas (its metadata names none); {READS}, one per file"
        )),
    }
}

/// The root of an outright CME raw symbol: `ESH1` → `ES`, `6EH4` → `6E`, `ESZ24` → `ES`.
fn root_of_raw(raw: &str) -> Option<&str> {
    let body = raw.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = raw.len() - body.len();
    let root = body.strip_suffix(|c: char| "FGHJKMNQUVXZ".contains(c))?;
    let outright = !root.is_empty() && root.chars().all(|c| c.is_ascii_alphanumeric());
    ((1..=2).contains(&digits) && outright).then_some(root)
}

/// The file being read, for error messages.
struct Origin {
    file: String,
    /// The file's name alone, for series' `source`.
    name: String,
    compressed: bool,
}

impl Origin {
    fn at(&self, offset: u64, field: &str, problem: String) -> DataError {
        DataError::Binary {
            file: self.file.clone(),
            offset,
            stream: if self.compressed {
                " of the decompressed stream"
            } else {
                ""
            },
            field: field.to_string(),
            problem,
        }
    }
}

/// Where the bars of one symbol go.
struct Series {
    bars: Bars,
    /// Byte offset of each bar's record, for errors found after decoding.
    offsets: Vec<u64>,
    tick_nanos: i64,
}

/// Turns decoded records into series, one per raw symbol (or one per continuous root).
struct Reader<'a> {
    origin: &'a Origin,
    version: u8,
    continuous: bool,
    symbols: TsSymbolMap,
    bar_size: BarSize,
    /// Raw symbol of each instrument_id that has a definition record in the file.
    defined: BTreeMap<u32, String>,
    series: BTreeMap<String, Series>,
    /// Keys of `series` by the symbol the metadata maps to (`ESH1` or `ES.c.0`).
    by_symbol: BTreeMap<String, String>,
}

type Fault = (&'static str, String);

impl<'a> Reader<'a> {
    fn new(origin: &'a Origin, meta: &Metadata, symbols: TsSymbolMap, bar_size: BarSize) -> Self {
        Reader {
            origin,
            version: meta.version,
            continuous: meta.stype_in == Some(SType::Continuous),
            symbols,
            bar_size,
            defined: BTreeMap::new(),
            series: BTreeMap::new(),
            by_symbol: BTreeMap::new(),
        }
    }

    fn record(&mut self, rec: &RecordRef, offset: u64) -> std::result::Result<(), Fault> {
        if rec.has::<OhlcvMsg>() {
            let bar = rec
                .try_get::<OhlcvMsg>()
                .map_err(|e| ("record", e.to_string()))?;
            return self.bar(bar, offset);
        }
        if let Some((raw, increment)) = self.definition(rec)? {
            let spec = spec_of_raw(&raw)?;
            if increment != tick_nanos(spec) {
                return Err((
                    "min_price_increment",
                    format!(
                        "{raw}'s definition has tick {} but the spec catalog's {} tick is {}; \
                         settle will not choose between them",
                        increment as f64 / NANOS as f64,
                        spec.root,
                        spec.tick_size
                    ),
                ));
            }
            self.defined.insert(rec.header().instrument_id, raw);
        }
        // Other records (system, error, symbol mapping) carry no bars.
        Ok(())
    }

    /// The raw symbol and tick (1e-9 units) of a definition record, in the file's DBN version.
    fn definition(&self, rec: &RecordRef) -> std::result::Result<Option<(String, i64)>, Fault> {
        match self.version {
            1 => definition::<dbn::v1::InstrumentDefMsg>(rec, |d| d.min_price_increment),
            2 => definition::<dbn::v2::InstrumentDefMsg>(rec, |d| d.min_price_increment),
            _ => definition::<dbn::v3::InstrumentDefMsg>(rec, |d| d.min_price_increment),
        }
    }

    fn bar(&mut self, m: &OhlcvMsg, offset: u64) -> std::result::Result<(), Fault> {
        let id = m.hd.instrument_id;
        let symbol = self
            .symbols
            .get_for_ts(m.hd.ts_event, id)
            .ok_or_else(|| {
                (
                    "instrument_id",
                    format!(
                        "instrument_id {id} has no symbol mapping in the metadata on {}",
                        stamp(m.hd.ts_event)
                    ),
                )
            })?
            .clone();
        let key = match self.by_symbol.get(&symbol) {
            Some(k) => k.clone(),
            None => self.open_series(&symbol)?,
        };
        let contract = if self.continuous {
            self.defined
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("id:{id}"))
        } else {
            symbol.clone()
        };
        let s = self.series.get_mut(&key).expect("opened above");
        let mut px = [0.0; 4];
        for (k, (field, nanos)) in [
            ("open", m.open),
            ("high", m.high),
            ("low", m.low),
            ("close", m.close),
        ]
        .into_iter()
        .enumerate()
        {
            if nanos % s.tick_nanos != 0 {
                return Err((
                    field,
                    format!(
                        "{contract} bar at {}: {field} {} is off the {} tick grid ({})",
                        stamp(m.hd.ts_event),
                        nanos as f64 / NANOS as f64,
                        s.bars.meta.symbol,
                        s.tick_nanos as f64 / NANOS as f64
                    ),
                ));
            }
            px[k] = nanos as f64 / NANOS as f64;
        }
        let secs = (m.hd.ts_event / NANOS as u64) as i64;
        let ts = if self.bar_size == BarSize::Daily {
            secs.div_euclid(86_400) * 86_400
        } else {
            secs
        };
        let ci = s.bars.contract_index(&contract);
        s.bars
            .push(ts, px[0], px[1], px[2], px[3], m.volume as f64, ci);
        s.offsets.push(offset);
        Ok(())
    }

    /// Starts the series `symbol` maps to, checking its root against the catalog.
    fn open_series(&mut self, symbol: &str) -> std::result::Result<String, Fault> {
        let (spec, contract) = if self.continuous {
            let root = symbol.split('.').next().unwrap_or("");
            (
                spec(root).map_err(|e| ("symbol", format!("{symbol}: {e}")))?,
                None,
            )
        } else {
            (spec_of_raw(symbol)?, Some(symbol))
        };
        let source = if self.continuous {
            format!(
                "databento:{} ({symbol}; contracts named from definition records, else \
                 id:<instrument_id>)",
                self.origin.name
            )
        } else {
            format!("databento:{}", self.origin.name)
        };
        let meta = SeriesMeta::new(spec.root, contract, self.bar_size, &source);
        let key = meta.key();
        if let Some((other, _)) = self.by_symbol.iter().find(|(_, k)| **k == key) {
            return Err((
                "symbol",
                format!(
                    "{other} and {symbol} would both be {key}; settle keeps one series per key"
                ),
            ));
        }
        self.series.insert(
            key.clone(),
            Series {
                bars: Bars::empty(meta),
                offsets: Vec::new(),
                tick_nanos: tick_nanos(spec),
            },
        );
        self.by_symbol.insert(symbol.to_string(), key.clone());
        Ok(key)
    }

    /// Validates every series, pointing errors at the record of the offending bar.
    fn finish(self) -> Result<Vec<Bars>> {
        if self.series.is_empty() {
            return Err(DataError::Invalid(format!(
                "{}: the file holds no bars (its metadata lists {} symbol mapping(s) but no \
                 OHLCV records follow)",
                self.origin.file,
                self.symbols.len()
            )));
        }
        self.series
            .into_values()
            .map(|s| match s.bars.validate("", Some(&s.offsets)) {
                Ok(()) => Ok(s.bars),
                Err(DataError::Parse {
                    line,
                    field,
                    problem,
                    ..
                }) => Err(self.origin.at(line, &field, problem)),
                Err(e) => Err(e),
            })
            .collect()
    }
}

/// A definition record of type `D` (one DBN version's layout), if `rec` is one.
fn definition<D>(
    rec: &RecordRef,
    increment: fn(&D) -> i64,
) -> std::result::Result<Option<(String, i64)>, Fault>
where
    D: HasRType<Header = dbn::RecordHeader> + InstrumentDefRec,
{
    if !rec.has::<D>() {
        return Ok(None);
    }
    let d = rec
        .try_get::<D>()
        .map_err(|e| ("definition", e.to_string()))?;
    let raw = d.raw_symbol().map_err(|e| ("raw_symbol", e.to_string()))?;
    Ok(Some((raw.to_string(), increment(d))))
}

/// The catalog spec of a raw symbol's root, or why there is none.
fn spec_of_raw(raw: &str) -> std::result::Result<&'static ContractSpec, Fault> {
    let root = root_of_raw(raw).ok_or_else(|| {
        (
            "symbol",
            format!(
                "`{raw}` is not an outright CME contract symbol (ROOT + month code + year, \
                 e.g. ESH1)"
            ),
        )
    })?;
    spec(root).map_err(|e| ("symbol", format!("{raw}: {e}")))
}

/// The spec's tick in DBN's 1e-9 units.
fn tick_nanos(spec: &ContractSpec) -> i64 {
    (spec.tick_size * NANOS as f64).round() as i64
}

/// A `ts_event` as RFC 3339 UTC.
fn stamp(ts_event: u64) -> String {
    chrono::DateTime::from_timestamp_nanos(ts_event as i64)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Counts the decoded bytes handed to the DBN decoder, remembers where the records start, and
/// notes a stream that ended early (the decoder treats an early end as a clean one).
///
/// It also walks the records' length fields as the bytes pass: the decoder reads each record
/// in place, as a reference into its buffer, and a length that is not a whole number of 8-byte
/// words would leave every later record misaligned (undefined behaviour in the decoder, which
/// only a debug assertion of its own catches). The bytes before such a record are handed over,
/// and the next read fails naming it.
struct Tally<R> {
    inner: R,
    delivered: u64,
    head: Vec<u8>,
    cut_short: bool,
    /// Offset of the next record's length byte, once the prefix is read.
    next_record: Option<u64>,
    /// A record whose length is impossible: its offset and length in bytes.
    misframed: Option<(u64, u64)>,
}

/// The smallest DBN record: its header.
const HEADER_LEN: u64 = 16;
/// DBN records are whole multiples of this many bytes (their alignment).
const RECORD_ALIGN: u64 = 8;

impl<R: Read> Tally<R> {
    fn new(inner: R) -> Self {
        Tally {
            inner,
            delivered: 0,
            head: Vec::with_capacity(PREFIX_LEN as usize),
            cut_short: false,
            next_record: None,
            misframed: None,
        }
    }

    /// Byte offset of the first record: the prefix plus the metadata length it states.
    fn records_start(&self) -> u64 {
        let len = self
            .head
            .get(4..8)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        PREFIX_LEN + u64::from(len)
    }

    /// Follows the length fields of the records starting in `chunk` (the bytes from offset
    /// `self.delivered`); returns how many bytes come before a misframed record, if one starts
    /// here.
    fn frame(&mut self, chunk: &[u8]) -> Option<usize> {
        let end = self.delivered + chunk.len() as u64;
        while let Some(at) = self.next_record.filter(|&at| at < end) {
            let size = u64::from(chunk[(at - self.delivered) as usize]) * 4;
            if size < HEADER_LEN || size % RECORD_ALIGN != 0 {
                self.misframed = Some((at, size));
                return Some((at - self.delivered) as usize);
            }
            self.next_record = Some(at + size);
        }
        None
    }

    /// The error naming the misframed record, for the decoder (which reports it as an I/O
    /// error; [`read_from`] names the record itself).
    fn misframed_error(at: u64, size: u64) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the record at byte {at}: {}", misframed(size)),
        )
    }
}

/// What is wrong with a record `size` bytes long that [`Tally`] refused.
fn misframed(size: u64) -> String {
    format!(
        "the record says it is {size} bytes long, but DBN records are at least {HEADER_LEN} \
         bytes and a whole multiple of {RECORD_ALIGN} (the file is corrupt)"
    )
}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some((at, size)) = self.misframed {
            return Err(Self::misframed_error(at, size));
        }
        match self.inner.read(buf) {
            Ok(n) => {
                let want = PREFIX_LEN as usize - self.head.len();
                self.head.extend_from_slice(&buf[..n.min(want)]);
                if self.next_record.is_none() && self.head.len() == PREFIX_LEN as usize {
                    self.next_record = Some(self.records_start());
                }
                let n = self.frame(&buf[..n]).unwrap_or(n);
                self.delivered += n as u64;
                match self.misframed {
                    Some((at, size)) if n == 0 => Err(Self::misframed_error(at, size)),
                    _ => Ok(n),
                }
            }
            Err(e) => {
                self.cut_short |= e.kind() == std::io::ErrorKind::UnexpectedEof;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_of_raw_symbols() {
        assert_eq!(root_of_raw("ESH1"), Some("ES"));
        assert_eq!(root_of_raw("6EH4"), Some("6E"));
        assert_eq!(root_of_raw("MESZ24"), Some("MES"));
        assert_eq!(root_of_raw("ESH1-ESM1"), None);
        assert_eq!(root_of_raw("H1"), None);
        assert_eq!(root_of_raw("ES"), None);
    }
}
