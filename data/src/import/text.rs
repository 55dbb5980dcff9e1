//! Small parsing helpers shared by the CSV-based importers.

use std::io::Read;
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::error::{DataError, Result};

/// Opens a file for reading, transparently decompressing `.gz`.
pub fn open(path: &Path) -> Result<Box<dyn Read>> {
    let f = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::GzDecoder::new(f)))
    } else {
        Ok(Box::new(std::io::BufReader::new(f)))
    }
}

/// A CSV reader with a header row over `input`.
pub fn csv_reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input)
}

/// Reads the headed CSV file at `path` row by row, handing `each` a [`Row`] that can read the
/// named `columns` (in the order given) and tag any error with file, line and column name.
/// A missing column or a malformed row is an error naming the file (and the line).
pub fn rows(
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    let file = display(path);
    let mut rdr = csv_reader(open(path)?);
    let headers = rdr.headers().map_err(|e| csv_error(&file, e))?.clone();
    let index = columns
        .iter()
        .map(|c| column(&headers, c, &file))
        .collect::<Result<Vec<_>>>()?;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(&file, e))?;
        each(&Row {
            file: &file,
            names: columns,
            index: &index,
            line: rec.position().map(|p| p.line()).unwrap_or(0),
            rec: &rec,
        })?;
    }
    Ok(())
}

/// One data row of a file read by [`rows`]; `k` below is the position of a column in the
/// list given to [`rows`].
pub struct Row<'a> {
    pub file: &'a str,
    names: &'a [&'a str],
    index: &'a [usize],
    /// 1-based line number in the file.
    pub line: u64,
    rec: &'a csv::StringRecord,
}

impl Row<'_> {
    /// The raw text of column `k`, trimmed.
    pub fn text(&self, k: usize) -> &str {
        self.rec.get(self.index[k]).unwrap_or("").trim()
    }

    /// Column `k` as a price; empty means missing.
    pub fn price(&self, k: usize) -> Result<Option<f64>> {
        price(self.text(k), self.file, self.line, self.names[k])
    }

    /// Column `k` as a date or date-time written in UTC, to epoch seconds.
    pub fn utc_time(&self, k: usize) -> Result<i64> {
        timestamp(
            self.text(k),
            chrono_tz::UTC,
            self.file,
            self.line,
            self.names[k],
        )
    }

    /// Column `k` as a `YYYY-MM-DD` date.
    pub fn date(&self, k: usize) -> Result<NaiveDate> {
        NaiveDate::parse_from_str(self.text(k), "%Y-%m-%d")
            .map_err(|_| self.error(k, format!("`{}`: expected YYYY-MM-DD", self.text(k))))
    }

    /// A parse error at this row, in column `k`.
    pub fn error(&self, k: usize, problem: impl Into<String>) -> DataError {
        DataError::parse(self.file, self.line, self.names[k], problem)
    }
}

/// Wraps a csv-crate error with the file name and line.
pub fn csv_error(file: &str, e: csv::Error) -> DataError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    DataError::parse(file, line, "row", e.to_string())
}

/// Column index of `name` in `headers` (case-insensitive), or a [`DataError::MissingColumn`].
pub fn column(headers: &csv::StringRecord, name: &str, file: &str) -> Result<usize> {
    headers
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case(name))
        .ok_or_else(|| DataError::MissingColumn {
            file: file.to_string(),
            column: name.to_string(),
            found: headers.iter().collect::<Vec<_>>().join(","),
        })
}

/// Parses a price; empty means "missing" (`None`). Negative prices are accepted (CL 2020-04-20).
pub fn price(s: &str, file: &str, line: u64, field: &str) -> Result<Option<f64>> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("na") {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(DataError::parse(
            file,
            line,
            field,
            format!("`{t}` is not a number"),
        )),
    }
}

/// Like [`price`] but the value is required.
pub fn req_price(s: &str, file: &str, line: u64, field: &str) -> Result<f64> {
    price(s, file, line, field)?
        .ok_or_else(|| DataError::parse(file, line, field, "empty value; expected a number"))
}

/// Parses a date or date-time in common layouts, interpreting it in `tz`, to UTC epoch seconds.
/// Date-only values are dates (00:00 UTC, the daily-bar convention), whatever `tz` is.
pub fn timestamp(s: &str, tz: Tz, file: &str, line: u64, field: &str) -> Result<i64> {
    let t = s.trim();
    const DT: [&str; 6] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y%m%d %H:%M",
        "%Y%m%d %H:%M:%S",
    ];
    let t_noz = t.strip_suffix('Z').unwrap_or(t);
    for f in DT {
        if let Ok(ndt) = NaiveDateTime::parse_from_str(t_noz, f) {
            return local_to_utc(ndt, tz, file, line, field);
        }
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp());
    }
    for f in ["%Y-%m-%d", "%Y%m%d", "%m/%d/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Ok(date_ts(d));
        }
    }
    Err(DataError::parse(
        file,
        line,
        field,
        format!("`{t}` is not a date/time; expected e.g. 2024-01-31 or 2024-01-31 14:30:00"),
    ))
}

/// Epoch seconds of a date at 00:00 UTC (the daily-bar stamp).
pub fn date_ts(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp()
}

/// Converts an exchange-local time to UTC; ambiguous (DST fall-back) times take the first.
pub fn local_to_utc(ndt: NaiveDateTime, tz: Tz, file: &str, line: u64, field: &str) -> Result<i64> {
    tz.from_local_datetime(&ndt)
        .earliest()
        .map(|d| d.timestamp())
        .ok_or_else(|| {
            DataError::parse(
                file,
                line,
                field,
                format!("{ndt} does not exist in time zone {tz} (DST gap)"),
            )
        })
}

/// Parses an IANA time zone name.
pub fn tz(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        DataError::Invalid(format!(
            "time zone `{name}`: expected an IANA name such as UTC or America/Chicago"
        ))
    })
}

/// The file name for error messages.
pub fn display(path: &Path) -> String {
    path.display().to_string()
}
