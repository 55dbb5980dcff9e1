//! settle-data: everything settle knows about markets before a strategy runs.
//!
//! * [`specs`]: the CME Group contract-spec catalog (tick size, tick value, sessions, months).
//! * [`bars`]: the columnar bar series every other crate reads ([`Bars`]).
//! * [`import`]: readers for generic OHLCV CSV, Parquet and the real-data formats in `shared/data`.
//! * [`continuous`]: front-month series with roll rules and back-adjustment.
//! * [`roll`], [`expiry`], [`front_month`]: roll schedules decided without look-ahead, last
//!   trade dates, and the recorded build (`settle data continuous`) with its recipe.
//! * [`resample`]: session-aware aggregation of minute bars.
//! * [`store`]: the on-disk columnar cache under `$SETTLE_HOME`.
//! * [`session_dates`]: daily bars dated by the session that closes that day.
//! * [`sample`]: the real data of `shared/data` imported as the sample store.
//! * [`synthetic`]: the deterministic random walk benchmarks measure.
//! * [`error`]: [`DataError`], naming the file, line and field of bad input.
//! * [`files`]: files written whole or not at all (reports, charts, exports).

#![deny(missing_docs)]

pub mod bars;
pub mod error;
pub mod specs;

pub use specs::{spec, ContractSpec};

pub use bars::{BarSize, Bars, SeriesMeta};
pub use error::{DataError, Result};
pub mod clock;
pub mod continuous;
pub mod expiry;
pub mod files;
pub mod front_month;
pub mod import;
pub mod resample;
pub mod roll;
pub mod sample;
pub mod session_dates;
pub mod store;
pub mod synthetic;
