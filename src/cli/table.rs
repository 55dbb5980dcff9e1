//! Plain-text tables for the CLI's human output (`--json` gives the machine form).

/// Prints `rows` under `headers`, each column as wide as its widest cell; columns whose
/// header starts with `>` are right-aligned (the `>` is not printed).
pub fn print(headers: &[&str], rows: &[Vec<String>]) {
    let right: Vec<bool> = headers.iter().map(|h| h.starts_with('>')).collect();
    let names: Vec<&str> = headers.iter().map(|h| h.trim_start_matches('>')).collect();
    let widths: Vec<usize> = (0..names.len())
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .chain([names[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let text: Vec<String> = cells
            .enumerate()
            .map(|(c, cell)| {
                let w = widths.get(c).copied().unwrap_or(0);
                if right.get(c) == Some(&true) {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        println!("{}", text.join(" ").trim_end());
    };
    line(&mut names.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
}
