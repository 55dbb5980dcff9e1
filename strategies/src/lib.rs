//! settle-strategies: what a strategy is built from.
//!
//! [`indicators`] holds TA-Lib-exact technical indicators over plain slices; [`rules`] is the
//! declarative JSON strategy language built on them, and [`templates`] the built-in strategies
//! written in it.

pub mod indicators;
pub mod rules;
pub mod sweep;
pub mod templates;

/// Checks a strategy JSON file: `Ok` with a one-paragraph summary when it is valid, `Err` with
/// every problem (one per line, `path: message`) otherwise. Backs `settle strategy check FILE`.
pub fn check_file(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let s: rules::Strategy = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a valid strategy: {e}", path.display()))?;
    let c = rules::compile(&s).map_err(|errs| {
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
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
