//! The operation manager: every long job (strategy build, backtest, sweep) runs on a blocking
//! thread under an `operation_id` whose status, progress and result live in SQLite.
//!
//! * A job is a closure; it checks [`JobContext::is_cancelled`] between units of work and
//!   reports [`JobContext::progress`].
//! * A job's error or panic settles only that operation as `failed`; the server keeps serving.
//! * [`Operations::wait`] long-polls on a watch channel, so a settled job wakes its waiters at
//!   once instead of after a polling interval.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use crate::db::{DbError, DbResult, Ledger};
use crate::model::{OpStatus, OperationRecord};

/// What a running job sees: its id, the store, the cancel flag and a progress reporter.
pub struct JobContext {
    operation_id: String,
    store: Ledger,
    cancel: Arc<AtomicBool>,
}

impl JobContext {
    /// The id of the operation this job runs.
    pub fn operation_id(&self) -> &str {
        &self.operation_id
    }

    /// The ledger, for jobs that record as they go (a sweep's finished rows).
    pub fn store(&self) -> &Ledger {
        &self.store
    }

    /// True once `cancel_task` asked this operation to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Records `done` of `total` units finished. A failed write is logged, not fatal: progress
    /// is advisory and must never break the job it describes.
    pub fn progress(&self, done: u64, total: u64) {
        if let Err(e) = self.store.set_progress(&self.operation_id, done, total) {
            tracing::warn!(operation_id = %self.operation_id, "progress not saved: {e}");
        }
    }
}

impl crate::backend::Job for JobContext {
    fn is_cancelled(&self) -> bool {
        JobContext::is_cancelled(self)
    }

    fn progress(&self, done: u64, total: u64) {
        JobContext::progress(self, done, total)
    }
}

/// The body of an operation. `Ok` carries the result JSON; `Err` a message for the model.
/// When the job returns after a cancel request, the operation settles `cancelled` and an `Ok`
/// value is kept as the partial result.
pub type JobResult = Result<Value, String>;

/// Who an operation belongs to and what it works on.
#[derive(Debug, Clone, Copy)]
pub struct Kickoff<'a> {
    /// The session the operation belongs to.
    pub session_id: &'a str,
    /// What it does: one of the `KIND_*` constants of [`crate::model`].
    pub kind: &'a str,
    /// The artifact or optimization id the job works on.
    pub subject_id: &'a str,
    /// A retried kick-off with the same key (per session and kind) returns the first operation.
    pub idempotency_key: Option<&'a str>,
    /// Refuse to start while another operation of this kind runs in the same session.
    pub exclusive: bool,
}

/// Why an operation could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Another operation of this kind runs in the session (an `exclusive` kick-off); names it.
    #[error("operation {0} of this kind is already running in this session")]
    Busy(String),
    /// The idempotency key was first used for another subject; names the key.
    #[error("idempotency key {0} was first used for another subject")]
    KeyReused(String),
    /// The ledger could not record the operation.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The state of one in-flight operation.
struct Live {
    session_id: String,
    kind: String,
    cancel: Arc<AtomicBool>,
    settled: watch::Receiver<bool>,
}

/// Starts, cancels and waits on operations. Cheap to clone.
#[derive(Clone)]
pub struct Operations {
    store: Ledger,
    live: Arc<Mutex<HashMap<String, Live>>>,
}

/// What [`Operations::wait`] saw.
#[derive(Debug, Clone)]
pub struct WaitOutcome {
    /// The operation as the ledger has it now.
    pub operation: OperationRecord,
    /// The timeout passed while the job was still in flight: "call again".
    pub timed_out: bool,
}

impl Operations {
    /// The manager over `store`, with no operation in flight.
    pub fn new(store: Ledger) -> Operations {
        Operations {
            store,
            live: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The ledger the operations are recorded in.
    pub fn store(&self) -> &Ledger {
        &self.store
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records an operation and runs `job` on a blocking thread. Returns the operation and
    /// whether it is new (false: an idempotent retry returned the first one). Must be called
    /// inside a tokio runtime.
    pub fn start<F>(&self, k: Kickoff<'_>, job: F) -> Result<(OperationRecord, bool), StartError>
    where
        F: FnOnce(&JobContext) -> JobResult + Send + 'static,
    {
        // The live map's lock makes "check exclusive, insert, register" one step.
        let mut live = self.live();
        if let Some(key) = k.idempotency_key {
            if let Some(first) = self
                .store
                .find_operation_by_key(k.session_id, k.kind, key)?
            {
                // A retry works on the same subject; another subject is a new request.
                if first.subject_id != k.subject_id {
                    return Err(StartError::KeyReused(key.to_string()));
                }
                return Ok((first, false));
            }
        }
        if k.exclusive {
            if let Some((id, _)) = live
                .iter()
                .find(|(_, l)| l.session_id == k.session_id && l.kind == k.kind)
            {
                return Err(StartError::Busy(id.clone()));
            }
        }
        let op =
            self.store
                .insert_operation(k.session_id, k.kind, k.subject_id, k.idempotency_key)?;
        let cancel = Arc::new(AtomicBool::new(false));
        let (settled_tx, settled_rx) = watch::channel(false);
        live.insert(
            op.operation_id.clone(),
            Live {
                session_id: k.session_id.to_string(),
                kind: k.kind.to_string(),
                cancel: cancel.clone(),
                settled: settled_rx,
            },
        );
        drop(live);

        let ctx = JobContext {
            operation_id: op.operation_id.clone(),
            store: self.store.clone(),
            cancel,
        };
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let id = ctx.operation_id.clone();
            if let Err(e) = this.store.set_operation_running(&id) {
                tracing::warn!(operation_id = %id, "cannot mark running: {e}");
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| job(&ctx)));
            let (status, result, error) = match outcome {
                Ok(Ok(v)) if ctx.is_cancelled() => (OpStatus::Cancelled, Some(v), None),
                Ok(Ok(v)) => (OpStatus::Succeeded, Some(v), None),
                Ok(Err(_)) if ctx.is_cancelled() => {
                    (OpStatus::Cancelled, None, Some("cancelled".to_string()))
                }
                Ok(Err(e)) => (OpStatus::Failed, None, Some(e)),
                Err(panic) => (
                    OpStatus::Failed,
                    None,
                    Some(format!("internal error: {}", panic_message(&panic))),
                ),
            };
            if let Err(e) =
                this.store
                    .finish_operation(&id, status, result.as_ref(), error.as_deref())
            {
                tracing::error!(operation_id = %id, "cannot settle operation: {e}");
            }
            // The row is settled: forget the job, then wake the waiters holding receivers.
            this.live().remove(&id);
            settled_tx.send_replace(true);
        });
        Ok((op, true))
    }

    /// Asks an operation to stop; idempotent and immediate. Returns false when it is not in
    /// flight (already settled or unknown).
    pub fn cancel(&self, operation_id: &str) -> bool {
        match self.live().get(operation_id) {
            Some(l) => {
                l.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// The in-flight operation of `kind` in `session_id`, if any.
    pub fn running_in_session(&self, session_id: &str, kind: &str) -> Option<String> {
        self.live()
            .iter()
            .find(|(_, l)| l.session_id == session_id && l.kind == kind)
            .map(|(id, _)| id.clone())
    }

    /// Waits up to `timeout` for the operation to settle. `None` if the id is unknown.
    pub async fn wait(
        &self,
        operation_id: &str,
        timeout: Duration,
    ) -> DbResult<Option<WaitOutcome>> {
        // Subscribe before reading the status so a job settling in between still wakes us.
        let rx = self.live().get(operation_id).map(|l| l.settled.clone());
        let Some(op) = self.store.get_operation(operation_id)? else {
            return Ok(None);
        };
        let Some(mut rx) = rx.filter(|_| !op.status.is_terminal()) else {
            return Ok(Some(WaitOutcome {
                operation: op,
                timed_out: false,
            }));
        };
        let settled = tokio::time::timeout(timeout, rx.wait_for(|s| *s)).await;
        let op = self
            .store
            .get_operation(operation_id)?
            .expect("an operation row is never deleted");
        let timed_out = settled.is_err() && !op.status.is_terminal();
        Ok(Some(WaitOutcome {
            operation: op,
            timed_out,
        }))
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        format!("job panicked: {s}")
    } else if let Some(s) = panic.downcast_ref::<String>() {
        format!("job panicked: {s}")
    } else {
        "job panicked".to_string()
    }
}
