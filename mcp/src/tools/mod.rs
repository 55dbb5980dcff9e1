//! The MCP tool surface (AskFutures-compatible names). Each group of tools lives in its own
//! module with its own `#[tool_router]`; [`SettleServer::new`] merges them.
//!
//! The tool methods are public so a program (or a bench) can call them in-process with
//! [`Args`](crate::Args); an MCP client reaches the same methods through `tools/call`.
//!
//! The argument types (`*Args` and the enums and records they hold) derive `JsonSchema`: a doc
//! comment on one of them, or on one of their fields or variants, is a description that
//! `tools/list` sends to every client, and that list is kept small (see
//! `reply::input_schema`). Those without one are left so on purpose, which is why these types
//! allow missing docs.

pub mod assess;
pub mod charts;
pub mod imports;
pub mod language;
pub mod operations;
pub mod reference;
mod resources;
pub mod sessions;
pub mod strategies;
pub mod sweeps;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    Implementation, ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool_handler, ErrorData, RoleServer, ServerHandler};

use crate::backend::Backend;
use crate::db::Ledger;
use crate::model::StrategyRecord;
use crate::ops::Operations;
use crate::reply::{fix, Failure};
use crate::toolsets::Toolsets;

/// What the server tells the model about the workflow, once, at initialize.
pub const INSTRUCTIONS: &str = "\
settle runs deterministic backtests of CME Group futures strategies on local data.
Workflow:
1. create_session (or list_sessions / get_session to resume).
2. list_symbols, get_contract_specs, list_datasets, list_templates to see what exists.
3. create_strategy (rules or a template + parameters; backtests by default) returns an \
operation_id at once. Then call wait_for_completion(session_id, operation_id, \
task='strategy_op') until its status is terminal; status 'timed_out' is not an error, just \
call it again. describe_rule_language teaches the rules JSON with worked examples.
4. get_backtest for headline metrics, the caveats of the data (closeOnly, adjustment, notes: \
repeat them to the user with the numbers), the resolved window and the first trades. \
update_strategy always saves a new version; backtest_existing_strategy re-runs one version \
in place (wait with task='backtest').
5. Sweep: list_strategies for canonicalParameters keys -> setup_optimization (nothing runs) \
-> run_optimization -> wait_for_completion(task='optimization') -> get_optimization.
cancel_task stops a running job (a sweep keeps its finished combinations). \
Only one sweep runs per session.
6. Whole results (all trades, daily equity, every sweep row) are also MCP resources: the URIs \
are in get_backtest (trades_uri, equity_uri) and get_optimization (rows_uri).
Every id belongs to the session that made it; pass that session_id.";

/// The settle MCP server: sessions, strategies, backtests, sweeps and reference data.
#[derive(Clone)]
pub struct SettleServer {
    ops: Operations,
    backend: Arc<dyn Backend>,
    tool_router: ToolRouter<SettleServer>,
    toolsets: Toolsets,
    /// The only directories import_data reads from; none: imports are off.
    data_dirs: Vec<std::path::PathBuf>,
}

impl SettleServer {
    /// A server listing the tools of `toolsets`.
    pub fn new(ops: Operations, backend: Arc<dyn Backend>, toolsets: Toolsets) -> SettleServer {
        let mut tool_router = ToolRouter::new();
        if toolsets.local {
            tool_router += Self::session_tools()
                + Self::reference_tools()
                + Self::operation_tools()
                + Self::strategy_tools()
                + Self::sweep_tools()
                + Self::language_tools()
                + Self::import_tools()
                + Self::chart_tools()
                + Self::assess_tools();
        }
        if toolsets.quantconnect {
            tool_router += crate::quantconnect::tool_router(Some(
                crate::quantconnect::answers_dir(ops.store().home()),
            ));
        }
        SettleServer {
            ops,
            backend,
            tool_router,
            toolsets,
            data_dirs: Vec::new(),
        }
    }

    /// The server with import_data reading files from `dirs` (and nowhere else).
    pub fn with_data_dirs(mut self, dirs: Vec<std::path::PathBuf>) -> SettleServer {
        self.data_dirs = dirs;
        self
    }

    fn store(&self) -> &Ledger {
        self.ops.store()
    }

    /// Every tool definition, as `tools/list` reports them.
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.tool_router.list_all()
    }

    /// The session, or a tool error naming the unknown id.
    fn require_session(&self, session_id: &str) -> Result<crate::model::SessionRecord, Failure> {
        self.store().get_session(session_id)?.ok_or_else(|| {
            fix(format!(
                "unknown session_id '{session_id}': call list_sessions or create_session"
            ))
        })
    }

    /// The artifact, checked to belong to the session.
    fn require_strategy(
        &self,
        session_id: &str,
        artifact_id: &str,
    ) -> Result<StrategyRecord, Failure> {
        self.require_session(session_id)?;
        match self.store().get_strategy(artifact_id)? {
            Some(s) if s.session_id == session_id => Ok(s),
            _ => Err(fix(format!(
                "artifact_id '{artifact_id}' was not found in this session: list_strategies shows \
                 this session's versions"
            ))),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for SettleServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("settle", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            [
                (self.toolsets.local, INSTRUCTIONS),
                (
                    self.toolsets.quantconnect,
                    crate::quantconnect::INSTRUCTIONS,
                ),
            ]
            .into_iter()
            .filter_map(|(on, text)| on.then_some(text))
            .collect::<Vec<_>>()
            .join("\n"),
        )
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        self.list_result_resources(request.as_ref().and_then(|r| r.cursor.as_deref()))
    }

    async fn list_resource_templates(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(Self::result_resource_templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self.read_result_resource(&request.uri)
            .await
            .map(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn server() -> (tempfile::TempDir, SettleServer) {
        let home = tempfile::tempdir().unwrap();
        let store = Ledger::open(home.path()).unwrap();
        (
            home,
            SettleServer::new(
                Operations::new(store),
                Arc::new(crate::Unwired),
                Toolsets::ALL,
            ),
        )
    }

    /// Fails on any construct some client rejects: combinators, refs, type arrays, untyped
    /// properties, objects without `properties` or open to extra properties.
    fn assert_flat(tool: &str, v: &Value, path: &str) {
        if let Value::Object(o) = v {
            for bad in ["anyOf", "oneOf", "allOf", "$ref", "$defs"] {
                assert!(!o.contains_key(bad), "{tool}: {bad} at {path}");
            }
            assert!(
                !o.get("type").is_some_and(Value::is_array),
                "{tool}: type array at {path}"
            );
            let map = !o.contains_key("properties")
                && o.get("additionalProperties")
                    .is_some_and(|a| *a != json!(false));
            if o.get("type") == Some(&json!("object")) && !map {
                assert!(
                    o.get("properties").is_some_and(Value::is_object),
                    "{tool}: {path} has no properties"
                );
                assert_eq!(
                    o.get("additionalProperties"),
                    Some(&json!(false)),
                    "{tool}: {path} is open"
                );
            }
            if let Some(Value::Object(props)) = o.get("properties") {
                for (name, p) in props {
                    assert!(
                        p.get("type").is_some_and(Value::is_string),
                        "{tool}: property {path}.{name} has no single type: {p}"
                    );
                    assert_flat(tool, p, &format!("{path}.{name}"));
                }
            }
            if let Some(items) = o.get("items") {
                assert_flat(tool, items, &format!("{path}[]"));
            }
        }
    }

    /// Output schemas say "an object" and no more, so the local tools/list stays small.
    #[test]
    fn output_schemas_are_plain_objects_and_the_local_list_is_small() {
        let home = tempfile::tempdir().unwrap();
        let s = SettleServer::new(
            Operations::new(Ledger::open(home.path()).unwrap()),
            Arc::new(crate::Unwired),
            Toolsets::default_for(false),
        );
        let tools = s.tools();
        for t in &tools {
            // A picture has no structuredContent, so no output schema.
            if t.name.ends_with("_chart") {
                assert!(t.output_schema.is_none());
                continue;
            }
            let schema = Value::Object((**t.output_schema.as_ref().unwrap()).clone());
            assert_eq!(schema, json!({"type": "object"}), "{}", t.name);
        }
        let size = serde_json::to_string(&tools).unwrap().len();
        assert!(
            size < 20_000,
            "tools/list of the local tools is {size} bytes"
        );
    }

    #[test]
    fn tool_surface_names_and_schemas() {
        let (_home, s) = server();
        let all = s.tools();
        // settle's own tools; QuantConnect's 64 and update_file are checked in `quantconnect`.
        let tools: Vec<_> = all
            .iter()
            .filter(|t| !crate::quantconnect::is_cloud_tool(&t.name))
            .collect();
        assert_eq!(all.len(), tools.len() + 65);
        let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "assess_strategy",
                "backtest_existing_strategy",
                "cancel_task",
                "create_session",
                "create_strategy",
                "delete_strategy",
                "describe_rule_language",
                "get_backtest",
                "get_backtest_chart",
                "get_backtest_report",
                "get_contract_specs",
                "get_optimization",
                "get_optimization_chart",
                "get_session",
                "import_data",
                "inspect_strategy",
                "list_datasets",
                "list_sessions",
                "list_strategies",
                "list_symbols",
                "list_templates",
                "run_optimization",
                "setup_optimization",
                "update_strategy",
                "wait_for_completion",
            ]
        );
        for t in tools {
            let input = Value::Object((*t.input_schema).clone());
            assert_eq!(input["type"], "object", "{}", t.name);
            assert_flat(&t.name, &input, "");
            let output = serde_json::to_string(&t.output_schema).unwrap();
            for f in ["uint", "int32", "int64", "double"] {
                assert!(!output.contains(&format!("\"format\":\"{f}")), "{}", t.name);
            }
            assert!(
                t.annotations
                    .as_ref()
                    .and_then(|a| a.read_only_hint)
                    .is_some(),
                "{}",
                t.name
            );
        }
    }
}

/// The strategy and sweep tools end to end, against a fake backend whose numbers are known.
#[cfg(test)]
mod flow_tests {
    use super::*;
    use crate::args::Args;
    use crate::backend::{
        BackendError, BackendResult, BacktestOutput, CompiledStrategy, DatasetInfo, Job, RowSink,
        StrategyInput, SweepEnd, TemplateInfo,
    };
    use crate::model::{CanonicalParameter, HeadlineMetrics, OptimizationRow, ParameterValue};
    use serde_json::{json, Value};
    use settle_engine::sweep::{Grid, SweepSpec};

    /// total_pnl = 10 × fast; each run takes `delay_ms` and gives up when cancel_task arrived
    /// meanwhile; a sweep runs its combinations one by one and stops at the first given up.
    struct Fake {
        delay_ms: u64,
    }

    impl Backend for Fake {
        fn compile(&self, input: &StrategyInput) -> BackendResult<CompiledStrategy> {
            if input.symbol != "ES" {
                return Err(BackendError::MissingSeries(format!(
                    "no data for symbol '{}'",
                    input.symbol
                )));
            }
            let fast = input
                .parameters
                .iter()
                .find(|p| p.key == "fast")
                .map_or(10.0, |p| p.value);
            Ok(CompiledStrategy {
                ticker: "ES".into(),
                definition: json!({ "fast": fast }),
                canonical_parameters: vec![CanonicalParameter {
                    key: "fast".into(),
                    label: "Fast MA".into(),
                    value: fast,
                    category: "entry".into(),
                    min: Some(1.0),
                    max: Some(100.0),
                    integer: true,
                }],
            })
        }
        fn run_backtest(&self, definition: &Value, ctx: &dyn Job) -> BackendResult<BacktestOutput> {
            std::thread::sleep(std::time::Duration::from_millis(self.delay_ms));
            if ctx.is_cancelled() {
                return Err(BackendError::Cancelled(
                    "cancelled before the backtest ran".into(),
                ));
            }
            let fast = definition["fast"].as_f64().unwrap_or_default();
            Ok(BacktestOutput {
                metrics: HeadlineMetrics {
                    trade_count: 2,
                    total_pnl: 10.0 * fast,
                    win_rate: Some(0.5),
                    max_drawdown: 1.0,
                    sharpe_ratio: Some(0.1),
                    profit_factor: None,
                },
                facts: crate::model::RunFacts {
                    series: "ES/continuous/1d".into(),
                    close_only: true,
                    notes: vec!["close-only data".into()],
                    ..Default::default()
                },
                trades: vec![],
                daily_equity: vec![],
            })
        }
        /// One combination at a time, each a `run_backtest` of `{fast}`; stops at a cancel.
        fn run_sweep(
            &self,
            _: &Value,
            grid: &Grid,
            _: &SweepSpec,
            _: &crate::backend::GuardPlan,
            ctx: &dyn Job,
            on_rows: &mut RowSink<'_>,
        ) -> BackendResult<SweepEnd> {
            // total_pnl rises with fast, and the grid's values ascend: the last row is the best.
            let mut best = None;
            for index in 0..grid.total_combinations() {
                let values = grid.combination(index);
                let Ok(out) = self.run_backtest(&json!({ "fast": values[0] }), ctx) else {
                    break;
                };
                best = Some(index as u64);
                on_rows(&[OptimizationRow {
                    combo_index: index as u64,
                    parameters: vec![ParameterValue {
                        key: grid.keys()[0].clone(),
                        value: values[0],
                    }],
                    metrics: Some(out.metrics),
                    error: None,
                }])?;
            }
            Ok(SweepEnd {
                best_combo_index: best,
                ..SweepEnd::default()
            })
        }
        fn templates(&self) -> Vec<TemplateInfo> {
            vec![]
        }
        fn datasets(&self) -> BackendResult<Vec<DatasetInfo>> {
            Ok(vec![])
        }
    }

    fn server(delay_ms: u64) -> (tempfile::TempDir, SettleServer) {
        let home = tempfile::tempdir().unwrap();
        let store = Ledger::open(home.path()).unwrap();
        (
            home,
            SettleServer::new(
                Operations::new(store),
                Arc::new(Fake { delay_ms }),
                Toolsets::ALL,
            ),
        )
    }

    fn ok<T>(r: crate::reply::ToolResult<T>) -> T {
        match r {
            Ok(reply) => reply.data,
            Err(e) => panic!("tool failed: {e:?}"),
        }
    }

    fn args<T: serde::de::DeserializeOwned>(v: Value) -> Args<T> {
        Args(serde_json::from_value(v).unwrap())
    }

    /// wait_for_completion on a kick-off's operation, with the task it names.
    async fn wait(s: &SettleServer, sid: &str, k: &strategies::KickoffOut) -> operations::WaitOut {
        ok(s.wait_operation(
            args(json!({"session_id": sid, "operation_id": k.operation_id, "task": k.task})),
            None,
        )
        .await)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn create_wait_read_then_sweep_and_cancel() {
        let (_home, s) = server(30);
        let sid = ok(s.create_session(args(json!({"title": "t"}))).await).session_id;
        let bad = s
            .create_strategy(args(
                json!({"session_id": sid, "description": "d", "symbol": "ZZ"}),
            ))
            .await;
        assert!(matches!(bad, Err(crate::reply::Failure::Tool(ref m)) if m.contains("'ZZ'")));
        let k = ok(s
            .create_strategy(args(
                json!({"session_id": sid, "description": "sma", "symbol": "ES",
                "idempotency_key": "once"}),
            ))
            .await);
        let again = ok(s
            .create_strategy(args(
                json!({"session_id": sid, "description": "sma", "symbol": "ES",
                "idempotency_key": "once"}),
            ))
            .await);
        assert_eq!(
            (again.operation_id.as_str(), again.created),
            (k.operation_id.as_str(), false)
        );
        // The same key with other arguments is a mistake, not a retry.
        let other = s
            .create_strategy(args(
                json!({"session_id": sid, "description": "ema", "symbol": "ES",
                "idempotency_key": "once"}),
            ))
            .await;
        assert!(
            matches!(other, Err(crate::reply::Failure::Tool(ref m)) if m.starts_with("idempotency_key: 'once' was first sent with other arguments")),
            "{:?}",
            other.err()
        );
        let w = wait(&s, &sid, &k).await;
        assert_eq!(w.status, "succeeded");
        let st = w.strategy.unwrap();
        assert_eq!(
            (st.lifecycle_status.as_str(), st.backtest_status.as_str()),
            ("ready", "passed")
        );
        assert_eq!(st.backtest_results.unwrap().total_pnl, 100.0);
        let art = k.artifact_id.unwrap();
        let bt = ok(s
            .get_backtest(args(json!({"session_id": sid, "artifact_id": art})))
            .await);
        assert_eq!(bt.status, "passed");

        // update = new version in the same chain.
        let up = ok(s
            .update_strategy(args(json!({"session_id": sid, "artifact_id": art,
                "parameters": [{"key": "fast", "value": 12}]})))
            .await);
        let w = wait(&s, &sid, &up).await;
        assert_eq!(w.strategy.as_ref().unwrap().version, 2);
        assert_eq!(
            w.strategy.unwrap().backtest_results.unwrap().total_pnl,
            120.0
        );

        // Sweep fast = 10, 15, 20: best is 20 → total_pnl 200.
        let setup = ok(s
            .setup_optimization(args(json!({"session_id": sid, "artifact_id": art,
                "parameters": [{"key": "fast", "min": 10, "max": 20, "step": 5}]})))
            .await);
        assert_eq!(setup.total_combinations, 3);
        let run = ok(s
            .run_optimization(args(
                json!({"session_id": sid, "optimization_id": setup.optimization_id}),
            ))
            .await);
        let w = wait(&s, &sid, &run).await;
        let o = w.optimization.unwrap();
        assert_eq!(
            (w.status.as_str(), o.completed, o.failed_count),
            ("succeeded", 3, 0)
        );
        assert_eq!(o.best_result.unwrap().metrics.unwrap().total_pnl, 200.0);

        // A long sweep, cancelled by session: keeps its finished rows.
        let setup = ok(s
            .setup_optimization(args(json!({"session_id": sid, "artifact_id": art,
                "parameters": [{"key": "fast", "min": 1, "max": 100, "step": 1}]})))
            .await);
        let run = ok(s
            .run_optimization(args(
                json!({"session_id": sid, "optimization_id": setup.optimization_id}),
            ))
            .await);
        let busy = s
            .run_optimization(args(
                json!({"session_id": sid, "optimization_id": setup.optimization_id}),
            ))
            .await;
        assert!(busy.is_err(), "a second run of a running sweep is refused");
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        ok(s.cancel_task(args(json!({"session_id": sid}))).await);
        let w = wait(&s, &sid, &run).await;
        let o = w.optimization.unwrap();
        assert_eq!(
            (w.status.as_str(), o.status.as_str()),
            ("cancelled", "cancelled")
        );
        assert!(
            o.completed >= 1 && o.completed < 100,
            "partial rows kept: {}",
            o.completed
        );
        // The combination the cancel cut short is not a row, and not a failure.
        assert_eq!(o.failed_count, 0);
    }

    /// Tool error text, or a panic naming the tool that unexpectedly succeeded.
    fn refused<T>(r: crate::reply::ToolResult<T>, tool: &str) -> String {
        match r {
            Err(crate::reply::Failure::Tool(m)) => m,
            Err(e) => panic!("{tool}: protocol error {e:?}"),
            Ok(_) => panic!("{tool}: another session's id was served"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn another_sessions_ids_are_not_found_and_nothing_changes() {
        let (_home, s) = server(200);
        let mine = ok(s.create_session(args(json!({"title": "a"}))).await).session_id;
        let other = ok(s.create_session(args(json!({"title": "b"}))).await).session_id;
        let k = ok(s
            .create_strategy(args(
                json!({"session_id": mine, "description": "sma", "symbol": "ES"}),
            ))
            .await);
        let art = k.artifact_id.clone().unwrap();
        let op = k.operation_id.clone();
        let theirs = |extra: Value| {
            let mut v = json!({"session_id": other});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        let mut answers = vec![
            refused(
                s.wait_operation(
                    args(theirs(
                        json!({"operation_id": op, "task": "strategy_op", "timeout_seconds": 0}),
                    )),
                    None,
                )
                .await,
                "wait_for_completion",
            ),
            refused(
                s.cancel_task(args(theirs(json!({"operation_id": op}))))
                    .await,
                "cancel_task",
            ),
        ];
        let w = wait(&s, &mine, &k).await;
        assert_eq!(
            w.status, "succeeded",
            "the cancel from elsewhere did nothing"
        );
        let setup = ok(s
            .setup_optimization(args(json!({"session_id": mine, "artifact_id": art,
                "parameters": [{"key": "fast", "min": 10, "max": 12}]})))
            .await);
        let opt = setup.optimization_id;
        answers.extend([
            refused(
                s.inspect_strategy(args(theirs(json!({"artifact_id": art}))))
                    .await,
                "inspect_strategy",
            ),
            refused(
                s.get_backtest(args(theirs(json!({"artifact_id": art}))))
                    .await,
                "get_backtest",
            ),
            refused(
                s.update_strategy(args(theirs(json!({"artifact_id": art}))))
                    .await,
                "update_strategy",
            ),
            refused(
                s.backtest_existing_strategy(args(theirs(json!({"artifact_id": art}))))
                    .await,
                "backtest_existing_strategy",
            ),
            refused(
                s.delete_strategy(args(theirs(json!({"artifact_id": art, "confirm": true}))))
                    .await,
                "delete_strategy",
            ),
            refused(
                s.setup_optimization(args(theirs(json!({"artifact_id": art,
                    "parameters": [{"key": "fast", "min": 10, "max": 12}]}))))
                    .await,
                "setup_optimization",
            ),
            refused(
                s.run_optimization(args(theirs(json!({"optimization_id": opt}))))
                    .await,
                "run_optimization",
            ),
            refused(
                s.get_optimization(args(theirs(json!({"optimization_id": opt}))))
                    .await,
                "get_optimization",
            ),
        ]);
        for a in &answers {
            assert!(a.contains("was not found in this session"), "{a}");
        }
        let list = ok(s.list_strategies(args(json!({"session_id": other}))).await);
        assert!(list.strategies.is_empty());
        // Still mine, unchanged: one version, and the sweep still configured.
        let list = ok(s.list_strategies(args(json!({"session_id": mine}))).await);
        assert_eq!(list.strategies.len(), 1);
        let o = ok(s
            .get_optimization(args(json!({"session_id": mine, "optimization_id": opt})))
            .await);
        assert_eq!(o.summary.status, "configured");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sweeps_are_checked_against_the_parameter_at_setup() {
        let (_home, s) = server(0);
        let sid = ok(s.create_session(args(json!({"title": "t"}))).await).session_id;
        let k = ok(s
            .create_strategy(args(
                json!({"session_id": sid, "description": "sma", "symbol": "ES"}),
            ))
            .await);
        wait(&s, &sid, &k).await;
        let art = k.artifact_id.unwrap();
        let setup = |range: Value| {
            s.setup_optimization(args(
                json!({"session_id": sid, "artifact_id": art, "parameters": [range]}),
            ))
        };
        // `fast` is a whole number in 1..100: no step means 1.
        let g = ok(setup(json!({"key": "fast", "min": 5, "max": 8})).await);
        assert_eq!(g.grid[0].values, [5.0, 6.0, 7.0, 8.0]);
        for (range, want) in [
            (
                json!({"key": "fast", "min": 5, "max": 50, "step": 11.25}),
                "parameters[0]: `fast` takes whole numbers only (a period or a bar count): step 11.25",
            ),
            (
                json!({"key": "fast", "min": 0, "max": 50, "step": 5}),
                "parameters[0]: `fast` min 0 is outside the parameter's bounds 1..100",
            ),
            (
                json!({"key": "fast", "min": 10, "max": 500, "step": 10}),
                "parameters[0]: `fast` max 500 is outside the parameter's bounds 1..100",
            ),
            (
                json!({"key": "slow", "min": 10, "max": 20}),
                "parameters[0].key: unknown parameter key 'slow'; this strategy's keys are: fast",
            ),
        ] {
            let m = refused(setup(range).await, "setup_optimization");
            assert!(m.contains(want), "{m}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deleting_a_version_reparents_its_children() {
        let (_home, s) = server(0);
        let sid = ok(s.create_session(args(json!({"title": "t"}))).await).session_id;
        let v1 = ok(s
            .create_strategy(args(
                json!({"session_id": sid, "description": "v1", "symbol": "ES"}),
            ))
            .await);
        wait(&s, &sid, &v1).await;
        let v1 = v1.artifact_id.unwrap();
        let v2 = ok(s
            .update_strategy(args(json!({"session_id": sid, "artifact_id": v1,
                "parameters": [{"key": "fast", "value": 12}]})))
            .await);
        wait(&s, &sid, &v2).await;
        let v2 = v2.artifact_id.unwrap();
        let reply = s
            .delete_strategy(args(
                json!({"session_id": sid, "artifact_id": v1, "confirm": true}),
            ))
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(reply.data.reparented, std::slice::from_ref(&v2));
        assert!(
            reply.summary.contains("now start their chain"),
            "{}",
            reply.summary
        );
        let list = ok(s.list_strategies(args(json!({"session_id": sid}))).await);
        assert_eq!(list.strategies.len(), 1);
        assert_eq!(list.strategies[0].artifact_id, v2);
        assert_eq!(list.strategies[0].parent_artifact_id, None);
        let again = s
            .delete_strategy(args(
                json!({"session_id": sid, "artifact_id": v1, "confirm": true}),
            ))
            .await;
        assert!(
            matches!(again, Err(crate::reply::Failure::Tool(ref m)) if m.contains("not found in this session"))
        );
    }
}
