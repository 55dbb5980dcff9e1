//! `import_data`: the trader's own files into the bar store, from one directory only.
//!
//! A client names a file by its path inside the server's data directory (`settle serve
//! --data-dir DIR`, default `$SETTLE_HOME/inbox`). Nothing outside it is ever opened: an
//! absolute path, a `..`, or a symbolic link anywhere on the way is refused, so a prompt that
//! talks a model into "importing" `/etc/passwd` or `~/.ssh/id_rsa` reads nothing.
//!
//! The path is checked at once; the import itself runs as an operation of the session, like a
//! backtest (a year of minutes takes a moment): `wait_for_completion(task='import')` gives the
//! series stored, or the file's problem, naming its line or byte offset. A failed import leaves
//! the store as it was.

use std::path::{Component, Path, PathBuf};

use crate::args::Args;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use settle_data::import::{CsvOptions, Stamp};
use settle_data::BarSize;

use super::reference::{dataset_row, DatasetRow};
use super::strategies::{kickoff_reply, start_failure, KickoffOut};
use super::SettleServer;
use crate::model::KIND_IMPORT;
use crate::ops::Kickoff;
use crate::reply::{fix, input_schema, output_schema, Failure, ToolResult};

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportArgs {
    /// The session the import operation belongs to.
    pub session_id: String,
    /// File inside the data directory, e.g. `es_1m.csv` or `glbx/ESZ4.ohlcv-1m.dbn.zst`.
    pub path: String,
    /// Root ticker (CSV and Parquet only; DBN files name their own).
    pub symbol: Option<String>,
    /// Contract of the file, e.g. `ESZ4` (CSV/Parquet; omit for a continuous series).
    pub contract: Option<String>,
    /// `1m` (default), `5m`, `15m`, `1h`, `1d`.
    pub bar_size: Option<String>,
    /// Column of the bar time (default `time`); open, high, low by those names.
    pub time_col: Option<String>,
    /// Column of the close (default `close`).
    pub close_col: Option<String>,
    /// Column of the volume (default `volume`; empty: none).
    pub volume_col: Option<String>,
    /// Closes only: no open/high/low columns.
    pub close_only: Option<bool>,
    /// IANA zone of the times (default UTC).
    pub tz: Option<String>,
    /// The times stamp bar closes, not opens.
    pub bar_close_stamps: Option<bool>,
    /// A retried call with the same key returns the first call's operation.
    pub idempotency_key: Option<String>,
}

/// What a finished import returns.
#[derive(Debug, Serialize, Deserialize)]
pub struct ImportOut {
    /// The series stored, as list_datasets shows them.
    pub imported: Vec<DatasetRow>,
}

#[tool_router(router = import_tools, vis = "pub(super)")]
impl SettleServer {
    /// `import_data`: imports a file of the data directory into the bar store, as an operation. The
    /// client reads the `description` of the attribute below.
    #[tool(
        description = "Import a CSV, Parquet or Databento DBN file from the server's data directory (a relative path) into the local store, as an operation: then wait_for_completion(task='import') gives the series stored. DBN files need no other argument.",
        input_schema = input_schema::<ImportArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn import_data(&self, Args(a): Args<ImportArgs>) -> ToolResult<KickoffOut> {
        self.require_session(&a.session_id)?;
        let file = self.inside_data_dir(&a.path)?;
        let columns = a.columns()?;
        let backend = self.backend.clone();
        let shown = a.path.clone();
        let (op, created) = self
            .ops
            .start(
                Kickoff {
                    session_id: &a.session_id,
                    kind: KIND_IMPORT,
                    subject_id: &a.path,
                    idempotency_key: a.idempotency_key.as_deref(),
                    exclusive: false,
                },
                move |_ctx| {
                    let stored = backend
                        .import(&file, columns.as_ref())
                        .map_err(|e| e.to_string())?;
                    let out = ImportOut {
                        imported: stored
                            .iter()
                            .map(|d| dataset_row(std::slice::from_ref(d)))
                            .collect(),
                    };
                    tracing::info!(file = %shown, series = out.imported.len(), "imported");
                    serde_json::to_value(out).map_err(|e| format!("the import's answer: {e}"))
                },
            )
            .map_err(start_failure)?;
        kickoff_reply(op, created, None, None)
    }
}

impl ImportOut {
    /// `Imported 2 series: 6E 6EH4 1m (29996 rows), ...`.
    pub fn text(&self) -> String {
        let series: Vec<String> = self
            .imported
            .iter()
            .map(|d| {
                format!(
                    "{} {} {} ({} rows)",
                    d.symbol,
                    d.contract.as_deref().unwrap_or("continuous"),
                    d.bar_size,
                    d.rows
                )
            })
            .collect();
        format!("Imported {} series: {}.", series.len(), series.join(", "))
    }
}

impl SettleServer {
    /// `relative` as a file inside the first data directory that holds it, or why not (the
    /// reason of the first directory, which a one-directory server always has).
    fn inside_data_dir(&self, relative: &str) -> Result<PathBuf, Failure> {
        if self.data_dirs.is_empty() {
            return Err(fix(
                "import_data is off: this server was started without a data directory",
            ));
        }
        let mut why = None;
        for dir in &self.data_dirs {
            match inside(dir, relative) {
                Ok(file) => return Ok(file),
                Err(e) => {
                    why.get_or_insert(e);
                }
            }
        }
        let why = why.unwrap_or_default();
        let dirs: Vec<String> = self
            .data_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        Err(fix(format!(
            "path: {why}; give a file's path relative to a data directory ({})",
            dirs.join(", ")
        )))
    }
}

/// `relative` resolved inside `dir`: a relative path of plain names, no symbolic link on the
/// way, ending at a regular file.
fn inside(dir: &Path, relative: &str) -> Result<PathBuf, String> {
    let rel = Path::new(relative);
    if relative.is_empty() {
        return Err("empty".into());
    }
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!("`{relative}` is absolute or climbs out with `..`"));
    }
    let mut at = dir.to_path_buf();
    for part in rel.components() {
        at.push(part);
        let meta = std::fs::symlink_metadata(&at)
            .map_err(|_| format!("`{relative}` does not exist in the data directory"))?;
        if meta.file_type().is_symlink() {
            return Err(format!(
                "`{relative}` goes through a symbolic link, which is not followed"
            ));
        }
    }
    if !at.is_file() {
        return Err(format!("`{relative}` is not a file"));
    }
    // Belt and braces: the resolved file lies under the resolved directory.
    let (real_dir, real) = (
        dir.canonicalize().map_err(|e| e.to_string())?,
        at.canonicalize().map_err(|e| e.to_string())?,
    );
    if !real.starts_with(&real_dir) {
        return Err(format!("`{relative}` is outside the data directory"));
    }
    Ok(real)
}

impl ImportArgs {
    /// The column options of a CSV or Parquet file; `None` when no symbol is given (a DBN file).
    fn columns(&self) -> Result<Option<CsvOptions>, Failure> {
        let Some(symbol) = &self.symbol else {
            return Ok(None);
        };
        let bar: BarSize = self
            .bar_size
            .as_deref()
            .unwrap_or("1m")
            .parse()
            .map_err(|e| fix(format!("bar_size: {e}")))?;
        let mut o = CsvOptions::new(symbol, bar);
        o.contract = self.contract.clone();
        if let Some(t) = &self.time_col {
            o.time_col = t.clone();
        }
        if let Some(c) = &self.close_col {
            o.close_col = c.clone();
        }
        if let Some(v) = &self.volume_col {
            o.volume_col = (!v.is_empty()).then(|| v.clone());
        }
        if self.close_only.unwrap_or(false) {
            (o.open_col, o.high_col, o.low_col) = (None, None, None);
        }
        if let Some(tz) = &self.tz {
            o.timezone = tz.clone();
        }
        if self.bar_close_stamps.unwrap_or(false) {
            o.stamp = Stamp::BarClose;
        }
        Ok(Some(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_files_inside_the_directory_are_reachable() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("inbox");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/es.csv"), "time,close\n").unwrap();
        std::fs::write(root.path().join("secret.txt"), "token").unwrap();
        std::os::unix::fs::symlink(root.path().join("secret.txt"), dir.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(root.path(), dir.join("up")).unwrap();
        assert!(inside(&dir, "sub/es.csv")
            .unwrap()
            .ends_with("inbox/sub/es.csv"));
        for (path, why) in [
            ("../secret.txt", "climbs out"),
            ("sub/../../secret.txt", "climbs out"),
            ("/etc/passwd", "absolute"),
            ("link.csv", "symbolic link"),
            ("up/secret.txt", "symbolic link"),
            ("nope.csv", "does not exist"),
            ("sub", "not a file"),
            ("", "empty"),
        ] {
            let e = inside(&dir, path).unwrap_err();
            assert!(e.contains(why), "{path}: {e}");
        }
    }
}
