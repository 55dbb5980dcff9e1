//! settle-strategies: what a strategy is built from.
//!
//! [`indicators`] holds TA-Lib-exact technical indicators over plain slices; [`rules`] is the
//! declarative JSON strategy language built on them, and [`templates`] the built-in strategies
//! written in it. [`language`] describes the rule language to its writers and reads their rules;
//! [`sweep`] evaluates one strategy for many parameter values from many threads; [`report`]
//! writes a backtest of a strategy as one HTML page. [`run`] is the one path from a strategy
//! and its bars to a backtest, [`assess`] the robustness verdict built on it, and [`guards`]
//! a sweep with its overfitting guards (DSR, PBO, holdout, walk-forward). [`manifest`] records
//! what a result was computed from and reruns it to prove it.

pub mod assess;
pub mod guards;
pub mod indicators;
pub mod language;
pub mod manifest;
pub mod report;
pub mod rules;
pub mod run;
pub mod sweep;
pub mod templates;

/// Checks a strategy JSON file: `Ok` with a one-paragraph summary when it is valid, `Err` with
/// every problem (one per line, `path: message`) otherwise. Backs `settle strategy check FILE`.
///
/// The file is read like a tool call's rules ([`language::parse_rules_text`]) with nothing
/// supplied by a call, so it must name its own `name`, `symbol` and `bar_size`.
pub fn check_file(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let lines = |errs: Vec<rules::ValidationError>| {
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let s = language::parse_rules_text(&text, &language::Context::default()).map_err(lines)?;
    let c = rules::compile(&s).map_err(lines)?;
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
