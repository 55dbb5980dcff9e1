//! Persistence on a real SQLite file and the operation manager's guarantees.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use settle_mcp::backend::StrategyInput;
use settle_mcp::db::{Ledger, NewStrategy};
use settle_mcp::model::{CanonicalParameter, OpStatus, KIND_BACKTEST, KIND_OPTIMIZATION};
use settle_mcp::ops::{Kickoff, Operations, StartError};

fn input() -> StrategyInput {
    StrategyInput {
        symbol: "ES".into(),
        bar_size: "1d".into(),
        contract: None,
        rules: None,
        rules_json: Some("{}".into()),
        template: None,
        parameters: vec![],
        window: None,
        start: None,
        end: None,
        commission_per_side: None,
        slippage_ticks: None,
    }
}

fn kick<'a>(session: &'a str, kind: &'a str, key: Option<&'a str>, exclusive: bool) -> Kickoff<'a> {
    Kickoff {
        session_id: session,
        kind,
        subject_id: "subject",
        idempotency_key: key,
        exclusive,
    }
}

#[test]
fn restart_keeps_sessions_versions_and_marks_interrupted_ops_failed() {
    let home = tempfile::tempdir().unwrap();
    let (session_id, v1_id, v2_id, op_id) = {
        let store = Ledger::open(home.path()).unwrap();
        let s = store.create_session("ideas").unwrap();
        let def = json!({"rules": 1});
        let params = [CanonicalParameter {
            key: "fast".into(),
            label: "Fast MA".into(),
            value: 10.0,
            category: "entry".into(),
            min: Some(2.0),
            max: None,
            integer: true,
        }];
        let inp = input();
        let new = || NewStrategy {
            ticker: "ES",
            description: "sma cross",
            input: &inp,
            definition: &def,
            parameters: &params,
        };
        let v1 = store.insert_strategy(&s.session_id, None, new()).unwrap();
        let v2 = store
            .insert_strategy(&s.session_id, Some(&v1), new())
            .unwrap();
        assert_eq!((v1.version, v2.version), (1, 2));
        assert_eq!(v2.lineage_id, v1.artifact_id);
        // An operation the "crash" leaves running.
        let op = store
            .insert_operation(&s.session_id, KIND_BACKTEST, &v2.artifact_id, None)
            .unwrap();
        store.set_operation_running(&op.operation_id).unwrap();
        (
            s.session_id,
            v1.artifact_id,
            v2.artifact_id,
            op.operation_id,
        )
    };

    let store = Ledger::open(home.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), 2);
    let s = store.get_session(&session_id).unwrap().unwrap();
    assert_eq!(s.title, "ideas");
    let versions = store.list_strategies(&session_id).unwrap();
    let ids: Vec<&str> = versions.iter().map(|v| v.artifact_id.as_str()).collect();
    assert_eq!(ids, [v1_id.as_str(), v2_id.as_str()]);
    assert_eq!(versions[1].canonical_parameters[0].key, "fast");
    assert_eq!(
        versions[1].parent_artifact_id.as_deref(),
        Some(v1_id.as_str())
    );
    let op = store.get_operation(&op_id).unwrap().unwrap();
    assert_eq!(op.status, OpStatus::Failed);
    assert_eq!(op.error.as_deref(), Some("interrupted"));
    // Its artifact is no longer stuck `creating`.
    assert_eq!(
        store
            .get_strategy(&v2_id)
            .unwrap()
            .unwrap()
            .lifecycle_status,
        "ready"
    );
}

#[test]
fn sessions_page_in_creation_order() {
    let home = tempfile::tempdir().unwrap();
    let store = Ledger::open(home.path()).unwrap();
    let ids: Vec<String> = (0..5)
        .map(|i| store.create_session(&format!("s{i}")).unwrap().session_id)
        .collect();
    let page1 = store.list_sessions(Some("active"), None, 2).unwrap();
    let last = page1.last().unwrap();
    let page2 = store
        .list_sessions(
            Some("active"),
            Some((&last.created_at, &last.session_id)),
            10,
        )
        .unwrap();
    let all: Vec<String> = page1
        .iter()
        .chain(&page2)
        .map(|s| s.session_id.clone())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| {
        let s = store.get_session(id).unwrap().unwrap();
        (s.created_at, s.session_id)
    });
    assert_eq!(all, sorted);
    assert!(store
        .list_sessions(Some("archived"), None, 10)
        .unwrap()
        .is_empty());
}

async fn settle(ops: &Operations, id: &str) -> settle_mcp::model::OperationRecord {
    let w = ops
        .wait(id, Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    assert!(!w.timed_out, "operation {id} did not settle in 10 s");
    w.operation
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_succeeds_with_progress_and_result() {
    let home = tempfile::tempdir().unwrap();
    let ops = Operations::new(Ledger::open(home.path()).unwrap());
    let (op, created) = ops
        .start(kick("ses", KIND_BACKTEST, None, false), |ctx| {
            for i in 1..=3 {
                ctx.progress(i, 3);
            }
            Ok(json!({"answer": 42}))
        })
        .unwrap();
    assert!(created);
    let done = settle(&ops, &op.operation_id).await;
    assert_eq!(done.status, OpStatus::Succeeded);
    assert_eq!((done.progress_done, done.progress_total), (3, 3));
    assert_eq!(done.result, Some(json!({"answer": 42})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_fails_only_itself() {
    let home = tempfile::tempdir().unwrap();
    let ops = Operations::new(Ledger::open(home.path()).unwrap());
    let (bad, _) = ops
        .start(
            kick("ses", KIND_BACKTEST, None, false),
            |_| -> Result<Value, String> { panic!("boom") },
        )
        .unwrap();
    let bad = settle(&ops, &bad.operation_id).await;
    assert_eq!(bad.status, OpStatus::Failed);
    assert!(
        bad.error.as_deref().unwrap().contains("boom"),
        "{:?}",
        bad.error
    );
    // The manager still runs jobs afterwards.
    let (good, _) = ops
        .start(kick("ses", KIND_BACKTEST, None, false), |_| Ok(json!(1)))
        .unwrap();
    assert_eq!(
        settle(&ops, &good.operation_id).await.status,
        OpStatus::Succeeded
    );
    // An error is a failure too, with the job's message.
    let (err, _) = ops
        .start(kick("ses", KIND_BACKTEST, None, false), |_| {
            Err("no data for ZZ".into())
        })
        .unwrap();
    let err = settle(&ops, &err.operation_id).await;
    assert_eq!(
        (err.status, err.error.as_deref()),
        (OpStatus::Failed, Some("no data for ZZ"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_between_units_and_keeps_partial_result() {
    let home = tempfile::tempdir().unwrap();
    let ops = Operations::new(Ledger::open(home.path()).unwrap());
    let units = Arc::new(AtomicUsize::new(0));
    let seen = units.clone();
    let (op, _) = ops
        .start(kick("ses", KIND_OPTIMIZATION, None, true), move |ctx| {
            while !ctx.is_cancelled() {
                seen.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(json!({"finished": seen.load(Ordering::SeqCst)}))
        })
        .unwrap();
    // A second sweep in the same session is refused while the first runs.
    let busy = ops.start(kick("ses", KIND_OPTIMIZATION, None, true), |_| Ok(json!(0)));
    assert!(matches!(busy, Err(StartError::Busy(ref id)) if *id == op.operation_id));
    // Still running: a short wait times out (not an error).
    let w = ops
        .wait(&op.operation_id, Duration::from_millis(50))
        .await
        .unwrap()
        .unwrap();
    assert!(w.timed_out);
    assert!(ops.cancel(&op.operation_id));
    assert!(
        ops.cancel(&op.operation_id),
        "cancel is idempotent while in flight"
    );
    let done = settle(&ops, &op.operation_id).await;
    assert_eq!(done.status, OpStatus::Cancelled);
    let finished = done.result.unwrap()["finished"].as_u64().unwrap();
    assert_eq!(finished as usize, units.load(Ordering::SeqCst));
    assert!(!ops.cancel(&op.operation_id), "nothing left to cancel");
    // After it settled, another sweep may start.
    assert!(ops
        .start(kick("ses", KIND_OPTIMIZATION, None, true), |_| Ok(json!(0)))
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_returns_the_first_operation() {
    let home = tempfile::tempdir().unwrap();
    let ops = Operations::new(Ledger::open(home.path()).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let job = |runs: Arc<AtomicUsize>| {
        move |_: &settle_mcp::ops::JobContext| {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(json!(null))
        }
    };
    let (first, c1) = ops
        .start(
            kick("ses", KIND_BACKTEST, Some("k1"), false),
            job(runs.clone()),
        )
        .unwrap();
    let (again, c2) = ops
        .start(
            kick("ses", KIND_BACKTEST, Some("k1"), false),
            job(runs.clone()),
        )
        .unwrap();
    assert!(c1 && !c2);
    assert_eq!(first.operation_id, again.operation_id);
    // Same key in another session is a different operation.
    let (other, c3) = ops
        .start(
            kick("ses2", KIND_BACKTEST, Some("k1"), false),
            job(runs.clone()),
        )
        .unwrap();
    assert!(c3 && other.operation_id != first.operation_id);
    settle(&ops, &first.operation_id).await;
    settle(&ops, &other.operation_id).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
