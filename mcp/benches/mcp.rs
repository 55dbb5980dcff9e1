//! The MCP server's speed targets, measured inside the server (tool methods called in-process,
//! results turned into the `CallToolResult` a client receives; no transport):
//!
//! * `list_symbols`: well under a millisecond.
//! * a daily-bar backtest through `create_strategy` + `wait_for_completion`: tens of
//!   milliseconds. Real data: RTL's CL front month, daily, 2013-2023, `sma_cross` over the last
//!   two years (about 500 bars traded, 2,674 loaded), each iteration a new version with its
//!   SQLite writes.
//! * a 100-combination sweep through `setup_optimization` + `run_optimization` +
//!   `wait_for_completion`: `sma_cross` fast 2..11 × slow 51..60 over the whole CL series,
//!   every row written to SQLite, the best judged by the Deflated Sharpe Ratio.
//!
//! Run: `cargo bench -p settle-mcp --bench mcp`.

use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::CallToolResponse;
use serde_json::{json, Value};
use settle_data::import::rtl;
use settle_mcp::db::Ledger;
use settle_mcp::ops::Operations;
use settle_mcp::tools::operations::WaitOut;
use settle_mcp::{Args, EngineBackend, SettleServer};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data");

/// A server over a temporary `$SETTLE_HOME` holding the continuous CL daily series.
fn server_with_cl(home: &Path) -> SettleServer {
    let dir = Path::new(DATA).join("converted/rtl");
    let expiries = rtl::expiry_table(&dir.join("expiry_table.csv"), "CL", "CL")
        .expect("real data: set up ../shared/data");
    let bars = rtl::cushing_ohlc(&dir.join("cushing_c1_CL_front_ohlc_daily.csv"), &expiries)
        .expect("CL daily");
    settle_data::store::Store::open(home)
        .and_then(|s| s.import(std::slice::from_ref(&bars)))
        .expect("import CL");
    SettleServer::new(
        Operations::new(Ledger::open(home).expect("settle.db")),
        Arc::new(EngineBackend::open(home).expect("bar store")),
        settle_mcp::Toolsets::default_for(false),
    )
}

/// `Args` from JSON, the way a client's arguments arrive.
fn args<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Args<T> {
    Args(serde_json::from_value(v).expect("valid arguments"))
}

/// `create_strategy` with `arguments`, then `wait_for_completion` on its operation, which must
/// succeed: the settled answer as a client receives it, and the new version's id.
async fn create_and_wait(server: &SettleServer, arguments: Value) -> (CallToolResponse, String) {
    let kick = server
        .create_strategy(args(arguments))
        .await
        .expect("create_strategy")
        .data;
    let done = settled(
        server,
        &kick.session_id,
        &kick.operation_id,
        "strategy_op",
        |_| (),
    )
    .await;
    (done, kick.artifact_id.expect("an artifact"))
}

/// `wait_for_completion` on operation `operation_id` of `task`, which must have succeeded and
/// pass `check`: the settled answer as a client receives it.
async fn settled(
    server: &SettleServer,
    session_id: &str,
    operation_id: &str,
    task: &str,
    check: impl FnOnce(&WaitOut),
) -> CallToolResponse {
    let done = server
        .wait_operation(
            args(json!({ "session_id": session_id, "operation_id": operation_id, "task": task })),
            None,
        )
        .await
        .expect("wait_for_completion");
    assert_eq!(done.data.status, "succeeded");
    check(&done.data);
    done.into_call_tool_result().expect("serializable")
}

fn bench(c: &mut Criterion) {
    let home = tempfile::tempdir().expect("temp dir");
    let server = server_with_cl(home.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    c.bench_function("mcp list_symbols", |b| {
        b.iter(|| {
            rt.block_on(server.list_symbols(args(json!({}))))
                .into_call_tool_result()
                .expect("list_symbols")
        })
    });

    let session = rt
        .block_on(server.create_session(args(json!({"title": "bench"}))))
        .expect("create_session")
        .data
        .session_id;
    c.bench_function(
        "mcp create_strategy + wait (CL 1d sma_cross, 2 years)",
        |b| {
            b.iter(|| {
                rt.block_on(create_and_wait(
                    &server,
                    json!({
                        "session_id": session, "description": "bench", "symbol": "CL",
                        "template": "sma_cross", "window": "last 2 years"
                    }),
                ))
            })
        },
    );

    let (_, artifact) = rt.block_on(create_and_wait(
        &server,
        json!({
            "session_id": session, "description": "sweep bench", "symbol": "CL",
            "template": "sma_cross", "window": "all", "backtest": false
        }),
    ));
    c.bench_function(
        "mcp sweep 100 combinations (CL 1d sma_cross, all history)",
        |b| {
            b.iter(|| {
                rt.block_on(async {
                    let setup = server
                        .setup_optimization(args(json!({
                            "session_id": session, "artifact_id": artifact,
                            "parameters": [{"key": "fast", "min": 2, "max": 11, "step": 1},
                                           {"key": "slow", "min": 51, "max": 60, "step": 1}]
                        })))
                        .await
                        .expect("setup_optimization")
                        .data;
                    let kick = server
                        .run_optimization(args(json!({
                            "session_id": session, "optimization_id": setup.optimization_id
                        })))
                        .await
                        .expect("run_optimization")
                        .data;
                    settled(
                        &server,
                        &kick.session_id,
                        &kick.operation_id,
                        "optimization",
                        |done| {
                            assert_eq!(done.optimization.as_ref().map(|o| o.completed), Some(100));
                        },
                    )
                    .await
                })
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
