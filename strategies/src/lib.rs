//! settle-strategies: what a strategy is built from.
//!
//! [`indicators`] holds TA-Lib-exact technical indicators over plain slices; [`rules`] is the
//! declarative JSON strategy language built on them, and [`templates`] the built-in strategies
//! written in it. [`language`] describes the rule language to its writers and reads their rules;
//! [`sweep`] evaluates one strategy for many parameter values from many threads; [`report`]
//! writes a backtest of a strategy as one HTML page. [`run`] is the one path from a strategy,
//! its overrides and its bars to a backtest, compiling the strategy once; [`assess`] is the
//! robustness verdict built on it, and [`guards`] a sweep with its overfitting guards (DSR,
//! PBO, holdout, walk-forward). [`check_file`] backs `settle strategy check`; [`manifest`]
//! records what a result was computed from and reruns it to prove it; [`sweep_document`] is a
//! sweep's result as one document with its manifest.

#![deny(missing_docs)]

pub mod assess;
pub mod guards;
pub mod indicators;
pub mod language;
pub mod manifest;
pub mod report;
pub mod rules;
pub mod run;
pub mod sweep;
pub mod sweep_document;
pub mod templates;

/// Why `settle strategy check` refused a file.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file as given.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not a valid strategy: every problem, one per line (`path: message`).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<rules::ValidationError>),
}

/// Checks a strategy JSON file: `Ok` with a one-paragraph summary when it is valid, `Err` with
/// every problem otherwise. Backs `settle strategy check FILE`.
///
/// The file is read like a tool call's rules ([`language::parse_rules_text`]) with nothing
/// supplied by a call, so it must name its own `name`, `symbol` and `bar_size`.
pub fn check_file(path: &std::path::Path) -> Result<String, CheckError> {
    let text = std::fs::read_to_string(path).map_err(|source| CheckError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let s = language::parse_rules_text(&text, &language::Context::default())
        .map_err(CheckError::Invalid)?;
    let c = rules::compile(&s).map_err(CheckError::Invalid)?;
    let sides: Vec<&str> = [("long", &s.long_entry), ("short", &s.short_entry)]
        .iter()
        .filter(|(_, e)| e.is_some())
        .map(|(n, _)| *n)
        .collect();
    Ok(format!(
        "strategy `{}` is valid: {} {} bars, window `{}`, trades {}, {} parameter(s)",
        s.name,
        s.symbol,
        c.bar_size,
        s.window,
        sides.join(" and "),
        s.parameters.len()
    ))
}
