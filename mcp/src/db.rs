//! The one SQLite file (`$SETTLE_HOME/settle.db`) that holds every session, strategy version,
//! backtest, optimization and operation, so a restart never loses a user's work.
//!
//! All writes go through [`Ledger`]; the connection sits behind a mutex because SQLite calls are
//! short (sub-millisecond) and a single writer keeps the state transitions in
//! [`Ledger::finish_operation`] atomic.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::model::{
    BacktestRecord, OpStatus, OperationRecord, OptimizationRecord, OptimizationRow, SessionRecord,
    StrategyRecord,
};

/// Persistence errors. Every variant carries enough text for a log line.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A SQLite call failed (open, migrate, query or write).
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A JSON column could not be read back, or a value could not be written as JSON.
    #[error("stored JSON is corrupt: {0}")]
    Json(#[from] serde_json::Error),
    /// The settle home directory could not be created.
    #[error("cannot create settle home {path}: {source}")]
    Home {
        /// The directory that could not be created.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Result of a ledger call.
pub type DbResult<T> = std::result::Result<T, DbError>;

/// Ordered schema migrations; entry `i` upgrades the database from version `i` to `i + 1`.
/// Never edit a shipped entry: append a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sessions (
    session_id  TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX sessions_by_created ON sessions (created_at, session_id);

CREATE TABLE strategies (
    artifact_id        TEXT PRIMARY KEY,
    session_id         TEXT NOT NULL REFERENCES sessions (session_id),
    lineage_id         TEXT NOT NULL,
    parent_artifact_id TEXT,
    version            INTEGER NOT NULL,
    lifecycle_status   TEXT NOT NULL,
    backtest_status    TEXT NOT NULL,
    ticker             TEXT NOT NULL,
    description        TEXT NOT NULL,
    input              TEXT NOT NULL,
    definition         TEXT NOT NULL,
    parameters         TEXT NOT NULL,
    latest_backtest_id TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (lineage_id, version)
);
CREATE INDEX strategies_by_session ON strategies (session_id, created_at);

CREATE TABLE backtests (
    backtest_id  TEXT PRIMARY KEY,
    artifact_id  TEXT NOT NULL REFERENCES strategies (artifact_id) ON DELETE CASCADE,
    session_id   TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    status       TEXT NOT NULL,
    metrics      TEXT,
    trades       TEXT NOT NULL DEFAULT '[]',
    equity       TEXT NOT NULL DEFAULT '[]',
    error        TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE optimizations (
    optimization_id    TEXT PRIMARY KEY,
    session_id         TEXT NOT NULL,
    artifact_id        TEXT NOT NULL REFERENCES strategies (artifact_id) ON DELETE CASCADE,
    config             TEXT NOT NULL,
    status             TEXT NOT NULL,
    total_combinations INTEGER NOT NULL,
    operation_id       TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE optimization_rows (
    optimization_id TEXT NOT NULL REFERENCES optimizations (optimization_id) ON DELETE CASCADE,
    combo_index     INTEGER NOT NULL,
    parameters      TEXT NOT NULL,
    metrics         TEXT,
    error           TEXT,
    PRIMARY KEY (optimization_id, combo_index)
);

CREATE TABLE operations (
    operation_id    TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    progress_done   INTEGER NOT NULL DEFAULT 0,
    progress_total  INTEGER NOT NULL DEFAULT 0,
    result          TEXT,
    error           TEXT,
    idempotency_key TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (session_id, kind, idempotency_key)
);
"#,
    r#"
-- What each backtest traded and its caveats (series, window, close-only, adjustment, notes).
ALTER TABLE backtests ADD COLUMN facts TEXT;
"#,
];

/// The server's ledger in SQLite: sessions, strategy versions, backtests, sweeps and
/// operations (the bars live in `settle_data::store::Store`). Cheap to clone (shares one
/// connection).
#[derive(Clone)]
pub struct Ledger {
    conn: Arc<Mutex<Connection>>,
    /// The settle home the database lives in (pictures and reports are written under it).
    home: PathBuf,
}

/// Current time as RFC 3339 UTC with milliseconds (sorts lexically in time order).
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// A fresh id with a readable prefix, e.g. `ses_0b6f…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

impl Ledger {
    /// Opens (creating if needed) `home/settle.db`, runs pending migrations and marks every
    /// operation a crash left `queued`/`running` as failed with reason `interrupted`.
    pub fn open(home: &Path) -> DbResult<Ledger> {
        std::fs::create_dir_all(home).map_err(|source| DbError::Home {
            path: home.to_path_buf(),
            source,
        })?;
        let conn = Connection::open(home.join("settle.db"))?;
        // WAL with `synchronous = NORMAL`: a commit is written to the WAL before it returns,
        // so a killed server loses nothing it answered, but the WAL is synced to the disk at
        // checkpoints rather than on every commit (an fsync per commit was nine tenths of a
        // daily backtest's time). Power loss can roll back the last commits; the database
        // stays consistent either way.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )?;
        let store = Ledger {
            conn: Arc::new(Mutex::new(conn)),
            home: home.to_path_buf(),
        };
        store.migrate()?;
        store.fail_interrupted()?;
        Ok(store)
    }

    /// The settle home this database is in.
    pub fn home(&self) -> &Path {
        &self.home
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (statements are
        // atomic), so a poisoned mutex is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn migrate(&self) -> DbResult<()> {
        let mut conn = self.lock();
        conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
        let current: Option<i64> = conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .optional()?;
        let current = current.unwrap_or(0) as usize;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute("DELETE FROM schema_version", [])?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [i as i64 + 1],
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Schema version after migrations (the number of applied migrations).
    pub fn schema_version(&self) -> DbResult<i64> {
        Ok(self
            .lock()
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))?)
    }

    fn fail_interrupted(&self) -> DbResult<()> {
        let ids: Vec<String> = {
            let conn = self.lock();
            let mut stmt = conn.prepare(
                "SELECT operation_id FROM operations WHERE status IN ('queued','running')",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for id in ids {
            self.finish_operation(&id, OpStatus::Failed, None, Some("interrupted"))?;
        }
        Ok(())
    }

    // ---- sessions ----------------------------------------------------------------------

    /// Creates an `active` session titled `title` with a fresh `ses_` id, both timestamps now.
    pub fn create_session(&self, title: &str) -> DbResult<SessionRecord> {
        let ts = now();
        let rec = SessionRecord {
            session_id: new_id("ses"),
            title: title.to_string(),
            status: "active".into(),
            created_at: ts.clone(),
            updated_at: ts,
        };
        self.lock().execute(
            "INSERT INTO sessions (session_id, title, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                rec.session_id,
                rec.title,
                rec.status,
                rec.created_at,
                rec.updated_at
            ],
        )?;
        Ok(rec)
    }

    /// The session with this id; `None` when there is none.
    pub fn get_session(&self, session_id: &str) -> DbResult<Option<SessionRecord>> {
        Ok(self
            .lock()
            .query_row(
                "SELECT session_id, title, status, created_at, updated_at FROM sessions
                 WHERE session_id = ?1",
                [session_id],
                session_from_row,
            )
            .optional()?)
    }

    /// Sessions in creation order, after the keyset `(created_at, session_id)` if given.
    /// `status` of `None` means every status.
    pub fn list_sessions(
        &self,
        status: Option<&str>,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> DbResult<Vec<SessionRecord>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT session_id, title, status, created_at, updated_at FROM sessions
             WHERE (?1 IS NULL OR status = ?1)
               AND (?2 IS NULL OR (created_at, session_id) > (?2, ?3))
             ORDER BY created_at, session_id LIMIT ?4",
        )?;
        let (after_ts, after_id) = after.unzip();
        let rows = stmt.query_map(
            params![status, after_ts, after_id, limit as i64],
            session_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ---- strategies --------------------------------------------------------------------

    /// Inserts a strategy version. `parent` (an existing artifact) makes it the next version
    /// of that artifact's chain; otherwise it starts a new chain at version 1.
    pub fn insert_strategy(
        &self,
        session_id: &str,
        parent: Option<&StrategyRecord>,
        new: NewStrategy<'_>,
    ) -> DbResult<StrategyRecord> {
        let conn = self.lock();
        let artifact_id = new_id("art");
        let (lineage_id, version) = match parent {
            Some(p) => {
                let max: i64 = conn.query_row(
                    "SELECT MAX(version) FROM strategies WHERE lineage_id = ?1",
                    [&p.lineage_id],
                    |r| r.get(0),
                )?;
                (p.lineage_id.clone(), max + 1)
            }
            None => (artifact_id.clone(), 1),
        };
        conn.execute(
            "INSERT INTO strategies (artifact_id, session_id, lineage_id, parent_artifact_id,
               version, lifecycle_status, backtest_status, ticker, description, input,
               definition, parameters, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'creating', 'not_tested', ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                artifact_id,
                session_id,
                lineage_id,
                parent.map(|p| p.artifact_id.clone()),
                version,
                new.ticker,
                new.description,
                serde_json::to_string(new.input)?,
                serde_json::to_string(new.definition)?,
                serde_json::to_string(new.parameters)?,
                now(),
            ],
        )?;
        drop(conn);
        Ok(self
            .get_strategy(&artifact_id)?
            .expect("row inserted above is readable"))
    }

    /// The strategy version with this id; `None` when there is none.
    pub fn get_strategy(&self, artifact_id: &str) -> DbResult<Option<StrategyRecord>> {
        self.lock()
            .query_row(
                &format!("{STRATEGY_SELECT} WHERE artifact_id = ?1"),
                [artifact_id],
                strategy_from_row,
            )
            .optional()?
            .transpose()
    }

    /// A session's strategy versions in creation order. Stamps have millisecond resolution,
    /// so versions made in the same millisecond are ordered by insertion (`rowid`), not by
    /// their random ids.
    pub fn list_strategies(&self, session_id: &str) -> DbResult<Vec<StrategyRecord>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "{STRATEGY_SELECT} WHERE session_id = ?1 ORDER BY created_at, rowid"
        ))?;
        let rows = stmt.query_map([session_id], strategy_from_row)?;
        rows.map(|r| r?).collect()
    }

    /// Marks a version `ready` once the operation that built it has finished.
    pub fn set_strategy_ready(&self, artifact_id: &str) -> DbResult<()> {
        self.lock().execute(
            "UPDATE strategies SET lifecycle_status = 'ready' WHERE artifact_id = ?1",
            [artifact_id],
        )?;
        Ok(())
    }

    /// Deletes one artifact version with its backtests and optimizations.
    ///
    /// Its child versions are re-parented to its own parent (none for version 1), so no
    /// version points at a parent that is gone; returns their ids, and whether anything was
    /// deleted.
    pub fn delete_strategy(&self, artifact_id: &str) -> DbResult<(bool, Vec<String>)> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let children: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT artifact_id FROM strategies WHERE parent_artifact_id = ?1
                 ORDER BY version, artifact_id",
            )?;
            let rows = stmt.query_map([artifact_id], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        tx.execute(
            "UPDATE strategies SET parent_artifact_id =
               (SELECT parent_artifact_id FROM strategies WHERE artifact_id = ?1)
             WHERE parent_artifact_id = ?1",
            [artifact_id],
        )?;
        let n = tx.execute(
            "DELETE FROM strategies WHERE artifact_id = ?1",
            [artifact_id],
        )?;
        tx.commit()?;
        Ok((n > 0, children))
    }

    // ---- backtests ---------------------------------------------------------------------

    /// Records a backtest about to run (status `running`) and points the artifact at it.
    pub fn start_backtest(
        &self,
        artifact: &StrategyRecord,
        operation_id: &str,
    ) -> DbResult<String> {
        let backtest_id = new_id("bt");
        let conn = self.lock();
        conn.execute(
            "INSERT INTO backtests (backtest_id, artifact_id, session_id, operation_id, status,
               created_at) VALUES (?1, ?2, ?3, ?4, 'running', ?5)",
            params![
                backtest_id,
                artifact.artifact_id,
                artifact.session_id,
                operation_id,
                now()
            ],
        )?;
        conn.execute(
            "UPDATE strategies SET latest_backtest_id = ?1 WHERE artifact_id = ?2",
            params![backtest_id, artifact.artifact_id],
        )?;
        Ok(backtest_id)
    }

    /// Stores a finished backtest and marks its artifact `passed`.
    pub fn complete_backtest(
        &self,
        backtest_id: &str,
        output: &crate::model::BacktestOutput,
    ) -> DbResult<()> {
        let conn = self.lock();
        conn.execute(
            "UPDATE backtests SET status = 'passed', metrics = ?1, trades = ?2, equity = ?3,
               facts = ?5 WHERE backtest_id = ?4",
            params![
                serde_json::to_string(&output.metrics)?,
                serde_json::to_string(&output.trades)?,
                serde_json::to_string(&output.daily_equity)?,
                backtest_id,
                serde_json::to_string(&output.facts)?,
            ],
        )?;
        conn.execute(
            "UPDATE strategies SET backtest_status = 'passed'
             WHERE artifact_id = (SELECT artifact_id FROM backtests WHERE backtest_id = ?1)",
            [backtest_id],
        )?;
        Ok(())
    }

    /// The backtest with this id, with its trades and daily equity; `None` when there is none.
    pub fn get_backtest(&self, backtest_id: &str) -> DbResult<Option<BacktestRecord>> {
        self.lock()
            .query_row(
                "SELECT backtest_id, artifact_id, session_id, operation_id, status, metrics,
                   trades, equity, error, created_at, facts FROM backtests WHERE backtest_id = ?1",
                [backtest_id],
                |r| {
                    Ok((|| -> DbResult<BacktestRecord> {
                        Ok(BacktestRecord {
                            backtest_id: r.get(0)?,
                            artifact_id: r.get(1)?,
                            session_id: r.get(2)?,
                            operation_id: r.get(3)?,
                            status: r.get(4)?,
                            metrics: parse_opt(r.get(5)?)?,
                            trades: serde_json::from_str(&r.get::<_, String>(6)?)?,
                            daily_equity: serde_json::from_str(&r.get::<_, String>(7)?)?,
                            error: r.get(8)?,
                            created_at: r.get(9)?,
                            facts: parse_opt(r.get(10)?)?,
                        })
                    })())
                },
            )
            .optional()?
            .transpose()
    }

    // ---- optimizations -----------------------------------------------------------------

    /// Records a configured sweep of `artifact` (status `configured`, no run yet) and returns its
    /// fresh `opt_` id. `config` is the sweep as set up; `total_combinations` the grid's size.
    pub fn create_optimization(
        &self,
        artifact: &StrategyRecord,
        config: &Value,
        total_combinations: u64,
    ) -> DbResult<String> {
        let id = new_id("opt");
        let ts = now();
        self.lock().execute(
            "INSERT INTO optimizations (optimization_id, session_id, artifact_id, config, status,
               total_combinations, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'configured', ?5, ?6, ?6)",
            params![
                id,
                artifact.session_id,
                artifact.artifact_id,
                serde_json::to_string(config)?,
                total_combinations as i64,
                ts
            ],
        )?;
        Ok(id)
    }

    /// Marks a sweep `running` under the operation `operation_id` that runs it.
    pub fn attach_optimization_run(
        &self,
        optimization_id: &str,
        operation_id: &str,
    ) -> DbResult<()> {
        self.lock().execute(
            "UPDATE optimizations SET status = 'running', operation_id = ?1, updated_at = ?2
             WHERE optimization_id = ?3",
            params![operation_id, now(), optimization_id],
        )?;
        Ok(())
    }

    /// Writes finished combinations as soon as they finish (so a crash keeps them), a batch
    /// in one transaction: one commit instead of one per row.
    pub fn record_optimization_rows(
        &self,
        optimization_id: &str,
        rows: &[OptimizationRow],
    ) -> DbResult<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO optimization_rows (optimization_id, combo_index,
                   parameters, metrics, error) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for row in rows {
                insert.execute(params![
                    optimization_id,
                    row.combo_index as i64,
                    serde_json::to_string(&row.parameters)?,
                    row.metrics
                        .as_ref()
                        .map(serde_json::to_string)
                        .transpose()?,
                    row.error
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The sweep with this id; `None` when there is none.
    pub fn get_optimization(&self, optimization_id: &str) -> DbResult<Option<OptimizationRecord>> {
        self.lock()
            .query_row(
                "SELECT optimization_id, session_id, artifact_id, config, status,
                   total_combinations, operation_id, created_at, updated_at
                 FROM optimizations WHERE optimization_id = ?1",
                [optimization_id],
                |r| {
                    Ok((|| -> DbResult<OptimizationRecord> {
                        Ok(OptimizationRecord {
                            optimization_id: r.get(0)?,
                            session_id: r.get(1)?,
                            artifact_id: r.get(2)?,
                            config: serde_json::from_str(&r.get::<_, String>(3)?)?,
                            status: r.get(4)?,
                            total_combinations: r.get::<_, i64>(5)? as u64,
                            operation_id: r.get(6)?,
                            created_at: r.get(7)?,
                            updated_at: r.get(8)?,
                        })
                    })())
                },
            )
            .optional()?
            .transpose()
    }

    /// Every finished combination of a sweep, in combination order.
    pub fn optimization_rows(&self, optimization_id: &str) -> DbResult<Vec<OptimizationRow>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT combo_index, parameters, metrics, error FROM optimization_rows
             WHERE optimization_id = ?1 ORDER BY combo_index",
        )?;
        let rows = stmt.query_map([optimization_id], |r| {
            Ok((|| -> DbResult<OptimizationRow> {
                Ok(OptimizationRow {
                    combo_index: r.get::<_, i64>(0)? as u64,
                    parameters: serde_json::from_str(&r.get::<_, String>(1)?)?,
                    metrics: parse_opt(r.get(2)?)?,
                    error: r.get(3)?,
                })
            })())
        })?;
        rows.map(|r| r?).collect()
    }

    /// The optimization of `session_id` whose run is in flight, if any (at most one).
    /// Sweep combinations finished in the session on versions in `artifact_ids`: trials the
    /// Deflated Sharpe of an assessment counts besides the versions themselves.
    pub fn optimization_row_count(
        &self,
        session_id: &str,
        artifact_ids: &[String],
    ) -> DbResult<u64> {
        let conn = self.lock();
        let mut total = 0u64;
        let mut stmt = conn.prepare(
            "SELECT COUNT(*) FROM optimization_rows r JOIN optimizations o \
             ON r.optimization_id = o.optimization_id WHERE o.session_id = ?1 AND o.artifact_id = ?2",
        )?;
        for id in artifact_ids {
            let n: i64 = stmt.query_row(rusqlite::params![session_id, id], |r| r.get(0))?;
            total += n as u64;
        }
        Ok(total)
    }

    /// The sweep of this session whose status is `running`, if any (a session runs one at a time).
    pub fn running_optimization(&self, session_id: &str) -> DbResult<Option<OptimizationRecord>> {
        let id: Option<String> = self
            .lock()
            .query_row(
                "SELECT optimization_id FROM optimizations WHERE session_id = ?1
                   AND status = 'running' LIMIT 1",
                [session_id],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.get_optimization(&id),
            None => Ok(None),
        }
    }

    // ---- resources ---------------------------------------------------------------------

    /// What `resources/list` offers, oldest first: passed backtests and sweeps that ran, as
    /// `(kind, id, artifact_id)` with kind `backtest` or `optimization`.
    pub fn resource_subjects(
        &self,
        offset: usize,
        limit: usize,
    ) -> DbResult<Vec<(String, String, String)>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT 'backtest', backtest_id, artifact_id, created_at FROM backtests
               WHERE status = 'passed'
             UNION ALL
             SELECT 'optimization', optimization_id, artifact_id, created_at FROM optimizations
               WHERE status <> 'configured'
             ORDER BY 4, 2 LIMIT ?1 OFFSET ?2",
        )?;
        let rows = stmt.query_map(params![limit as i64, offset as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ---- operations --------------------------------------------------------------------

    /// Inserts a `queued` operation. A duplicate `(session_id, kind, idempotency_key)` is a
    /// constraint error; [`crate::ops::Operations::start`] looks the key up first.
    pub fn insert_operation(
        &self,
        session_id: &str,
        kind: &str,
        subject_id: &str,
        idempotency_key: Option<&str>,
    ) -> DbResult<OperationRecord> {
        let id = new_id("op");
        let ts = now();
        self.lock().execute(
            "INSERT INTO operations (operation_id, session_id, kind, subject_id, status,
               idempotency_key, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?6)",
            params![id, session_id, kind, subject_id, idempotency_key, ts],
        )?;
        Ok(self.get_operation(&id)?.expect("row inserted above"))
    }

    /// The operation a kick-off of `kind` with idempotency `key` started in this session, if any: a
    /// retried call returns it instead of starting another.
    pub fn find_operation_by_key(
        &self,
        session_id: &str,
        kind: &str,
        key: &str,
    ) -> DbResult<Option<OperationRecord>> {
        self.lock()
            .query_row(
                &format!(
                    "{OPERATION_SELECT} WHERE session_id = ?1 AND kind = ?2 AND idempotency_key = ?3"
                ),
                params![session_id, kind, key],
                operation_from_row,
            )
            .optional()?
            .transpose()
    }

    /// The operation with this id; `None` when there is none.
    pub fn get_operation(&self, operation_id: &str) -> DbResult<Option<OperationRecord>> {
        self.lock()
            .query_row(
                &format!("{OPERATION_SELECT} WHERE operation_id = ?1"),
                [operation_id],
                operation_from_row,
            )
            .optional()?
            .transpose()
    }

    /// Moves an operation from `queued` to `running` (no change in any other state).
    pub fn set_operation_running(&self, operation_id: &str) -> DbResult<()> {
        self.lock().execute(
            "UPDATE operations SET status = 'running', updated_at = ?1
             WHERE operation_id = ?2 AND status = 'queued'",
            params![now(), operation_id],
        )?;
        Ok(())
    }

    /// Records `done` of `total` units of an operation finished (combinations, rows, steps).
    pub fn set_progress(&self, operation_id: &str, done: u64, total: u64) -> DbResult<()> {
        self.lock().execute(
            "UPDATE operations SET progress_done = ?1, progress_total = ?2, updated_at = ?3
             WHERE operation_id = ?4",
            params![done as i64, total as i64, now(), operation_id],
        )?;
        Ok(())
    }

    /// Settles an operation and, in the same transaction, the artifact it worked on, so no
    /// strategy stays `creating` and no sweep stays `running` after its operation ends.
    pub fn finish_operation(
        &self,
        operation_id: &str,
        status: OpStatus,
        result: Option<&Value>,
        error: Option<&str>,
    ) -> DbResult<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let (kind, subject): (String, String) = tx.query_row(
            "SELECT kind, subject_id FROM operations WHERE operation_id = ?1",
            [operation_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.execute(
            "UPDATE operations SET status = ?1, result = ?2, error = ?3, updated_at = ?4
             WHERE operation_id = ?5",
            params![
                status.as_str(),
                result.map(serde_json::to_string).transpose()?,
                error,
                now(),
                operation_id
            ],
        )?;
        match kind.as_str() {
            crate::model::KIND_STRATEGY | crate::model::KIND_BACKTEST => {
                tx.execute(
                    "UPDATE strategies SET lifecycle_status = 'ready' WHERE artifact_id = ?1",
                    [&subject],
                )?;
                if status != OpStatus::Succeeded {
                    // The backtest this operation started did not finish.
                    let outcome = if status == OpStatus::Cancelled {
                        "cancelled"
                    } else {
                        "failed"
                    };
                    tx.execute(
                        "UPDATE backtests SET status = ?1, error = ?2
                         WHERE operation_id = ?3 AND status = 'running'",
                        params![outcome, error, operation_id],
                    )?;
                    tx.execute(
                        "UPDATE strategies SET backtest_status = 'failed'
                         WHERE artifact_id = ?1 AND latest_backtest_id IN
                           (SELECT backtest_id FROM backtests WHERE operation_id = ?2
                              AND status = 'failed')",
                        params![subject, operation_id],
                    )?;
                }
            }
            crate::model::KIND_OPTIMIZATION => {
                tx.execute(
                    "UPDATE optimizations SET status = ?1, updated_at = ?2
                     WHERE optimization_id = ?3",
                    params![status.as_str(), now(), subject],
                )?;
            }
            _ => {}
        }
        tx.commit()?;
        Ok(())
    }
}

/// The fields a caller supplies for a new strategy version.
pub struct NewStrategy<'a> {
    /// Root ticker the version trades, e.g. `ES`.
    pub ticker: &'a str,
    /// What the strategy does, in the client's words.
    pub description: &'a str,
    /// What the client sent; a later `update_strategy` applies its changes on top of it.
    pub input: &'a crate::model::StrategyInput,
    /// The definition as the strategy language reads it, stored with the version.
    pub definition: &'a Value,
    /// The version's tunable numbers, the keys a sweep takes.
    pub parameters: &'a [crate::model::CanonicalParameter],
}

const STRATEGY_SELECT: &str = "SELECT artifact_id, session_id, lineage_id, parent_artifact_id,
    version, lifecycle_status, backtest_status, ticker, description, input, definition,
    parameters, latest_backtest_id, created_at FROM strategies";

const OPERATION_SELECT: &str = "SELECT operation_id, session_id, kind, subject_id, status,
    progress_done, progress_total, result, error, idempotency_key, created_at, updated_at
    FROM operations";

fn parse_opt<T: serde::de::DeserializeOwned>(s: Option<String>) -> DbResult<Option<T>> {
    Ok(s.map(|s| serde_json::from_str(&s)).transpose()?)
}

fn session_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        session_id: r.get(0)?,
        title: r.get(1)?,
        status: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

fn strategy_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DbResult<StrategyRecord>> {
    let input: String = r.get(9)?;
    let definition: String = r.get(10)?;
    let parameters: String = r.get(11)?;
    let build = || -> DbResult<StrategyRecord> {
        Ok(StrategyRecord {
            artifact_id: r.get(0)?,
            session_id: r.get(1)?,
            lineage_id: r.get(2)?,
            parent_artifact_id: r.get(3)?,
            version: r.get::<_, i64>(4)? as u32,
            lifecycle_status: r.get(5)?,
            backtest_status: r.get(6)?,
            ticker: r.get(7)?,
            description: r.get(8)?,
            input: serde_json::from_str(&input)?,
            definition: serde_json::from_str(&definition)?,
            canonical_parameters: serde_json::from_str(&parameters)?,
            latest_backtest_id: r.get(12)?,
            created_at: r.get(13)?,
        })
    };
    Ok(build())
}

fn operation_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DbResult<OperationRecord>> {
    let status: String = r.get(4)?;
    let build = || -> DbResult<OperationRecord> {
        Ok(OperationRecord {
            operation_id: r.get(0)?,
            session_id: r.get(1)?,
            kind: r.get(2)?,
            subject_id: r.get(3)?,
            status: OpStatus::parse(&status).unwrap_or(OpStatus::Failed),
            progress_done: r.get::<_, i64>(5)? as u64,
            progress_total: r.get::<_, i64>(6)? as u64,
            result: parse_opt(r.get(7)?)?,
            error: r.get(8)?,
            idempotency_key: r.get(9)?,
            created_at: r.get(10)?,
            updated_at: r.get(11)?,
        })
    };
    Ok(build())
}
