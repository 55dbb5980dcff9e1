//! Parameter sweeps: one evaluation per combination of a parameter grid, run in parallel.
//!
//! The sweep does not know what a parameter means. The caller passes a closure that turns one
//! combination (`[(key, value), ...]`) into [`Metrics`](crate::Metrics), usually by computing
//! signals and calling [`backtest`](crate::backtest); the strategy language lives in a crate
//! above this one.
//!
//! * [`grid`]: ranges and value lists, expanded exactly, and their Cartesian product.
//! * [`objective`]: which metric to maximise or minimise, and the constraints a result must meet.
//! * [`run`](mod@run): the rayon-parallel loop with cancellation, progress and failure capture.
//! * [`result`]: the table of results, best and top N, the 2-D surface, CSV export.
//! * Overfitting guards: [`walkforward`] (holdout and rolling walk-forward with a stitched
//!   out-of-sample curve), [`dsr`] (Deflated Sharpe Ratio), [`pbo`] (Probability of Backtest
//!   Overfitting by CSCV).
//! * [`export`]: Parquet export and the JSON summary.
//! * [`shard`]: a deterministic share of the grid per machine, and the merge of the shards.
//!
//! Determinism: results are stored by combination index, so the result (and its CSV and JSON)
//! is the same bytes whatever the number of threads.

pub mod dsr;
pub mod export;
pub mod grid;
mod moments;
pub mod objective;
pub mod pbo;
pub mod result;
pub mod run;
pub mod shard;
pub mod walkforward;

pub use export::Summary;
pub use grid::{Grid, Param, DEFAULT_MAX_COMBINATIONS};
pub use moments::GuardError;
pub use objective::{metric_names, metric_value, Constraint, Direction, Objective, Op, SweepSpec};
pub use result::{Failure, Ranked, Row, Surface, SweepResult};
pub use run::{run, run_observed, Progress};
pub use shard::{merge, run_shard, Shard, ShardError, ShardFile};

/// Why a sweep could not be defined, run or exported. Every variant names the offending key,
/// metric or limit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    /// A parameter definition that cannot be expanded.
    #[error("parameter `{key}`: {problem}")]
    Param {
        /// The parameter as given.
        key: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// The grid has more combinations than the cap allows.
    #[error("the grid has {count} combinations, over the cap of {cap}; narrow a range, widen a step or raise the cap")]
    TooManyCombinations {
        /// Combinations the grid would have.
        count: u128,
        /// The most allowed.
        cap: usize,
    },
    /// A metric name that [`Metrics`](crate::Metrics) does not have.
    #[error("unknown metric `{name}`; valid metrics: {}", valid.join(", "))]
    UnknownMetric {
        /// The name as given.
        name: String,
        /// Every metric name a sweep accepts.
        valid: Vec<String>,
    },
    /// A constraint string that is not `metric op number`.
    #[error("constraint `{text}`: {problem}")]
    Constraint {
        /// The constraint as given.
        text: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// A surface was asked of a grid that does not have exactly two parameters.
    #[error("a surface needs exactly two parameters; this grid has {0}")]
    NotTwoParameters(usize),
    /// An objective string that is not `metric`, `metric:max` or `metric:min`.
    #[error("objective `{text}`: {problem}")]
    Objective {
        /// The objective as given.
        text: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// Writing an export file failed (I/O, Parquet, or an unknown file extension).
    #[error("export: {0}")]
    Export(String),
    /// Writing the CSV failed (I/O).
    #[error("CSV export: {0}")]
    Csv(String),
}
