//! Cutting a JSON answer down to a byte budget, largest parts first, in time linear in its size.
//!
//! The answer's compact JSON size is measured once, node by node ([`Measured`]); the cut then
//! walks down from the root handing each part a share of the budget, so nothing is
//! re-serialized. What a part may lose depends on what it is:
//!
//! * a **list** (an array of many records, a map of many like entries such as a
//!   `rollingWindow` keyed by month or an optimization's `backtests` keyed by id, or a map of
//!   more than [`POSITIONAL`] scalars) keeps its first entries whole and drops the rest. A
//!   map's first entries are those first by key: serde_json is built here without
//!   `preserve_order`, so maps are sorted by key, not kept in the API's order;
//! * a **record** (an object whose fields mean different things) shares its budget among its
//!   fields by water-filling: fields below the common cap are kept whole, the larger ones are
//!   cut to the cap, and a field that cannot be cut that far is left out; an array of fewer
//!   than eight items (a project's files, a backtest's charts) is shared the same way;
//! * a **positional array** (a short array of scalars, such as an optimization backtest's
//!   21 `statistics` whose meaning is their position) and a **string** are never cut inside:
//!   kept whole or left out, so no truncated text (a file's code) can be written back.
//!
//! Every cut is returned with its JSON pointer, what was kept and the whole count. Each node
//! is measured once and visited at most once more; the only step above linear is sorting the
//! sizes of a record's fields for the water level (n log n).

use serde_json::{Map, Value};

/// A map with at least this many entries, all objects or all arrays, is a list of entries.
const MAP_AS_LIST: usize = 8;
/// An array of scalars at most this long is positional: its items are kept together. A map of
/// more scalars than this is a list of entries (a backtest's `statistics`, about 40 named
/// fields, stays a record whose fields share the budget).
const POSITIONAL: usize = 64;

/// One part of the answer that lost something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The part's JSON pointer in the answer (`/backtest/rollingWindow`).
    pub pointer: String,
    /// What is left: entries of a list (0 when the whole part was left out).
    pub kept: usize,
    /// How many entries (or characters, for a string) the part had.
    pub total: usize,
    /// What was counted.
    pub unit: Unit,
}

/// What a [`Cut`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Items of an array.
    Items,
    /// Entries of a map.
    Entries,
    /// A part left out whole: its compact JSON size in bytes.
    Bytes,
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        match self.unit {
            Unit::Items => write!(f, "{pointer}: kept {} of {} items", self.kept, self.total),
            Unit::Entries => write!(f, "{pointer}: kept {} of {} entries", self.kept, self.total),
            Unit::Bytes => write!(f, "{pointer}: left out ({} bytes)", self.total),
        }
    }
}

/// The compact JSON size of a value and of each of its children, in order.
struct Measured {
    bytes: usize,
    children: Vec<Measured>,
}

fn measure(value: &Value) -> Measured {
    match value {
        Value::Null => leaf(4),
        Value::Bool(b) => leaf(if *b { 4 } else { 5 }),
        Value::Number(n) => leaf(n.to_string().len()),
        Value::String(s) => leaf(quoted_len(s)),
        Value::Array(items) => {
            let children: Vec<Measured> = items.iter().map(measure).collect();
            let inner: usize = children.iter().map(|c| c.bytes).sum();
            Measured {
                bytes: 2 + inner + items.len().saturating_sub(1),
                children,
            }
        }
        Value::Object(map) => {
            let children: Vec<Measured> = map.values().map(measure).collect();
            let inner: usize = map
                .keys()
                .zip(&children)
                .map(|(k, c)| entry_len(k, c.bytes))
                .sum();
            Measured {
                bytes: 2 + inner + map.len().saturating_sub(1),
                children,
            }
        }
    }
}

fn leaf(bytes: usize) -> Measured {
    Measured {
        bytes,
        children: Vec::new(),
    }
}

/// `"key":value` without the separating comma.
fn entry_len(key: &str, value: usize) -> usize {
    quoted_len(key) + 1 + value
}

/// The length of `s` as a JSON string literal, as serde_json writes it.
pub(super) fn quoted_len(s: &str) -> usize {
    2 + s.chars().map(escaped_len).sum::<usize>()
}

/// The bytes `c` takes inside a JSON string literal, as serde_json writes it.
pub(super) fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// Cuts `value` until its compact JSON is at most `budget` bytes (or as close as parts that
/// cannot be cut allow). Returns the cuts in document order; none when it already fits.
pub fn to_budget(value: &mut Value, budget: usize) -> Vec<Cut> {
    let measured = measure(value);
    let mut cuts = Vec::new();
    fit(value, &measured, budget, &mut String::new(), &mut cuts);
    cuts
}

/// Shrinks `value` towards `budget`; returns its size afterwards.
fn fit(
    value: &mut Value,
    measured: &Measured,
    budget: usize,
    pointer: &mut String,
    cuts: &mut Vec<Cut>,
) -> usize {
    if measured.bytes <= budget {
        return measured.bytes;
    }
    match value {
        Value::Array(items) if items.len() < MAP_AS_LIST && !is_positional(items) => {
            fit_short_array(items, &measured.children, budget, pointer, cuts)
        }
        Value::Array(items) if !is_positional(items) => {
            fit_list_items(items, &measured.children, budget, pointer, cuts)
        }
        Value::Object(map) if is_list_like(map) => {
            fit_list_entries(map, &measured.children, budget, pointer, cuts)
        }
        Value::Object(map) => fit_record(map, &measured.children, budget, pointer, cuts),
        _ => measured.bytes,
    }
}

fn is_positional(items: &[Value]) -> bool {
    items.len() <= POSITIONAL && items.iter().all(|v| !v.is_array() && !v.is_object())
}

fn is_list_like(map: &Map<String, Value>) -> bool {
    let scalar = |v: &Value| !v.is_array() && !v.is_object();
    (map.len() >= MAP_AS_LIST
        && (map.values().all(Value::is_object) || map.values().all(Value::is_array)))
        || (map.len() > POSITIONAL && map.values().all(scalar))
}

/// Keeps the longest prefix of items that fits; when not even the first fits whole, keeps the
/// first cut to fit.
fn fit_list_items(
    items: &mut Vec<Value>,
    measured: &[Measured],
    budget: usize,
    pointer: &mut String,
    cuts: &mut Vec<Cut>,
) -> usize {
    let total = items.len();
    let (kept, mut size) = prefix(measured.iter().map(|m| m.bytes), budget);
    if kept == 0 && total > 0 {
        let mark = pointer.len();
        pointer.push_str("/0");
        let first = fit(
            &mut items[0],
            &measured[0],
            budget.saturating_sub(2),
            pointer,
            cuts,
        );
        pointer.truncate(mark);
        items.truncate(1);
        size = 2 + first;
    } else {
        items.truncate(kept);
    }
    if items.len() < total {
        cuts.push(Cut {
            pointer: pointer.clone(),
            kept: items.len(),
            total,
            unit: Unit::Items,
        });
    }
    size
}

/// The same for a map of like entries: the entries first by key are kept (maps here are
/// sorted by key, see the module's doc), the rest dropped.
fn fit_list_entries(
    map: &mut Map<String, Value>,
    measured: &[Measured],
    budget: usize,
    pointer: &str,
    cuts: &mut Vec<Cut>,
) -> usize {
    let total = map.len();
    let sizes = map.keys().zip(measured).map(|(k, m)| entry_len(k, m.bytes));
    let (kept, size) = prefix(sizes, budget);
    let entries = std::mem::take(map);
    map.extend(entries.into_iter().take(kept));
    cuts.push(Cut {
        pointer: pointer.to_string(),
        kept,
        total,
        unit: Unit::Entries,
    });
    size
}

/// How many leading parts of `sizes` fit in `budget` inside brackets, and their size.
fn prefix(sizes: impl Iterator<Item = usize>, budget: usize) -> (usize, usize) {
    let mut size = 2;
    let mut kept = 0;
    for part in sizes {
        let next = size + part + usize::from(kept > 0);
        if next > budget {
            break;
        }
        size = next;
        kept += 1;
    }
    (kept, size)
}

/// Water-fills `budget` over the fields of a record.
fn fit_record(
    map: &mut Map<String, Value>,
    measured: &[Measured],
    budget: usize,
    pointer: &mut String,
    cuts: &mut Vec<Cut>,
) -> usize {
    let parts = map
        .iter_mut()
        .map(|(k, v)| (escape(k), quoted_len(k) + 2, v))
        .collect();
    let (size, left_out) = share(parts, measured, budget, pointer, cuts);
    let mut keep = kept_flags(measured.len(), &left_out).into_iter();
    map.retain(|_, _| keep.next().unwrap_or(true));
    size
}

/// For each of `len` parts, whether it is kept: all but the (ascending) indexes `left_out`.
fn kept_flags(len: usize, left_out: &[usize]) -> Vec<bool> {
    let mut keep = vec![true; len];
    for &i in left_out {
        keep[i] = false;
    }
    keep
}

/// The same over the items of a short array (a project's few files, a backtest's charts):
/// each item is a part of its own, not one of many like entries.
fn fit_short_array(
    items: &mut Vec<Value>,
    measured: &[Measured],
    budget: usize,
    pointer: &mut String,
    cuts: &mut Vec<Cut>,
) -> usize {
    let parts = items
        .iter_mut()
        .enumerate()
        .map(|(i, v)| (i.to_string(), 1, v))
        .collect();
    let (size, left_out) = share(parts, measured, budget, pointer, cuts);
    let mut keep = kept_flags(measured.len(), &left_out).into_iter();
    items.retain(|_| keep.next().unwrap_or(true));
    size
}

/// Shares `budget` among `parts` (pointer segment, bytes around the value, value): parts
/// below the water level stay whole, larger ones are cut to it, and those that cannot come
/// down that far are left out. Returns the size of what is kept and the indexes left out.
fn share(
    parts: Vec<(String, usize, &mut Value)>,
    measured: &[Measured],
    budget: usize,
    pointer: &mut String,
    cuts: &mut Vec<Cut>,
) -> (usize, Vec<usize>) {
    let around: usize = parts.iter().map(|(_, a, _)| a).sum();
    let cap = water_level(
        measured.iter().map(|m| m.bytes),
        budget.saturating_sub(2 + around),
    );
    let mut size = 2;
    let mut left_out = Vec::new();
    for (i, (segment, around, value)) in parts.into_iter().enumerate() {
        let mut bytes = measured[i].bytes;
        if bytes > cap {
            let mark = pointer.len();
            let inside = cuts.len();
            pointer.push('/');
            pointer.push_str(&segment);
            bytes = fit(value, &measured[i], cap, pointer, cuts);
            if bytes > cap {
                // What was cut inside a part left out is moot: those cuts are the ones pushed
                // since `inside` (document order), dropped in time linear in their number.
                cuts.truncate(inside);
                cuts.push(Cut {
                    pointer: pointer.clone(),
                    kept: 0,
                    total: bytes,
                    unit: Unit::Bytes,
                });
                left_out.push(i);
            }
            pointer.truncate(mark);
        }
        if bytes <= cap {
            size += around + bytes;
        }
    }
    // Each part counted its comma; there is one fewer than parts kept.
    let kept = measured.len() - left_out.len();
    (size - usize::from(kept > 0), left_out)
}

/// The cap `c` with `Σ min(size, c) ≤ budget`, as high as it can be (sizes all fit: the
/// largest size).
fn water_level(sizes: impl Iterator<Item = usize>, budget: usize) -> usize {
    let mut sizes: Vec<usize> = sizes.collect();
    sizes.sort_unstable();
    let mut left = budget;
    for (i, &s) in sizes.iter().enumerate() {
        let share = left / (sizes.len() - i);
        if s > share {
            return share;
        }
        left -= s;
    }
    sizes.last().copied().unwrap_or(0)
}

/// A key as a JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn size(v: &Value) -> usize {
        v.to_string().len()
    }

    #[test]
    fn measured_sizes_are_serde_jsons() {
        let v = json!({"a": [1, 2.5, -3e-7, null, true, false], "b\"/~": "x\n\u{01}é\\",
                       "c": {}, "d": [], "e": [{"f": "g"}]});
        assert_eq!(measure(&v).bytes, size(&v));
    }

    #[test]
    fn what_fits_is_untouched() {
        let mut v = json!({"a": [1, 2, 3]});
        assert!(to_budget(&mut v, 100).is_empty());
        assert_eq!(v, json!({"a": [1, 2, 3]}));
    }

    #[test]
    fn a_list_keeps_its_first_items_whole() {
        let orders: Vec<Value> = (0..1000)
            .map(|i| json!({"id": i, "price": 4500.25}))
            .collect();
        let mut v = json!({"success": true, "orders": orders});
        let cuts = to_budget(&mut v, 2000);
        assert!(size(&v) <= 2000, "{}", size(&v));
        let kept = v["orders"].as_array().unwrap();
        assert_eq!(kept[0]["id"], 0);
        assert!(kept.len() > 50, "{}", kept.len());
        assert_eq!(cuts.len(), 1);
        assert_eq!(
            cuts[0].to_string(),
            format!("/orders: kept {} of 1000 items", kept.len())
        );
        assert_eq!(v["success"], true);
    }

    #[test]
    fn maps_of_many_entries_lose_whole_entries_and_records_share_the_budget() {
        let window: Map<String, Value> = (0..480)
            .map(|i| (format!("M{i:03}"), json!({"sharpe": 1.5, "drawdown": 0.1})))
            .collect();
        let trades: Vec<Value> = (0..300).map(|i| json!({"id": i, "pnl": 12.5})).collect();
        let mut v = json!({"backtest": {"rollingWindow": window, "closedTrades": trades,
                                        "statistics": {"Sharpe Ratio": "1.2"}, "name": "b"}});
        let cuts = to_budget(&mut v, 5000);
        assert!(size(&v) <= 5000, "{}", size(&v));
        let b = &v["backtest"];
        assert_eq!(
            b["statistics"]["Sharpe Ratio"], "1.2",
            "small fields are whole"
        );
        assert_eq!(b["name"], "b");
        let window = b["rollingWindow"].as_object().unwrap();
        let trades = b["closedTrades"].as_array().unwrap();
        assert!(
            window.len() > 10 && trades.len() > 10,
            "{} {}",
            window.len(),
            trades.len()
        );
        assert_eq!(
            window["M000"]["sharpe"], 1.5,
            "the first entries are kept whole"
        );
        let text: Vec<String> = cuts.iter().map(Cut::to_string).collect();
        assert!(
            text.contains(&format!(
                "/backtest/rollingWindow: kept {} of 480 entries",
                window.len()
            )),
            "{text:?}"
        );
        assert!(
            text.contains(&format!(
                "/backtest/closedTrades: kept {} of 300 items",
                trades.len()
            )),
            "{text:?}"
        );
    }

    #[test]
    fn positional_arrays_and_strings_are_never_cut_inside() {
        let backtests: Map<String, Value> = (0..100)
            .map(|i| {
                let stats: Vec<f64> = (0..21)
                    .map(|s| f64::from(s) + f64::from(i) / 100.0)
                    .collect();
                (
                    format!("bt{i:03}"),
                    json!({"id": format!("bt{i:03}"), "statistics": stats}),
                )
            })
            .collect();
        let mut v = json!({"optimization": {"backtests": backtests}});
        to_budget(&mut v, 3000);
        let kept = v["optimization"]["backtests"].as_object().unwrap();
        assert!(kept.len() > 5 && kept.len() < 100, "{}", kept.len());
        for b in kept.values() {
            assert_eq!(b["statistics"].as_array().unwrap().len(), 21);
        }
        let mut v = json!({"files": [{"name": "main.py", "content": "x".repeat(50_000)}]});
        let cuts = to_budget(&mut v, 1000);
        assert_eq!(
            v,
            json!({"files": [{"name": "main.py"}]}),
            "left out, not truncated"
        );
        assert_eq!(cuts.len(), 1, "{cuts:?}");
        assert_eq!(
            cuts[0].to_string(),
            "/files/0/content: left out (50002 bytes)"
        );
    }

    #[test]
    fn a_large_map_of_scalars_keeps_its_first_entries_even_when_its_keys_alone_are_too_large() {
        // 5,000 keys of 40 characters: 210 KB of keys alone, far over the budget.
        let equity: Map<String, Value> = (0..5000)
            .map(|i| (format!("{i:040}"), json!(100_000.0 + f64::from(i))))
            .collect();
        let mut v = json!({"success": true, "equity": equity});
        let cuts = to_budget(&mut v, 2000);
        assert!(size(&v) <= 2000, "{}", size(&v));
        let kept = v["equity"].as_object().unwrap();
        assert!(
            kept.len() > 20,
            "a prefix is kept, not nothing: {}",
            kept.len()
        );
        let first = format!("{:040}", 0);
        assert_eq!(kept[&first], 100_000.0, "the entries first by key");
        assert_eq!(
            cuts.iter().map(Cut::to_string).collect::<Vec<_>>(),
            [format!("/equity: kept {} of 5000 entries", kept.len())],
            "one cut, not one per entry"
        );
        // A statistics map of a few dozen named fields is still a record.
        let stats: Map<String, Value> = (0..40)
            .map(|i| (format!("statistic {i:02}"), json!("x".repeat(100))))
            .collect();
        assert!(!is_list_like(&stats));
    }

    #[test]
    fn cuts_inside_a_part_left_out_are_dropped() {
        // A record (one field is a scalar) of 3,000 small records, whose keys alone are over
        // the budget: each inner record is cut to nothing and then left out whole, and the cuts
        // made inside it are not reported.
        let mut many: Map<String, Value> = (0..3000)
            .map(|i| (format!("r{i}"), json!({"note": "n".repeat(50), "id": i})))
            .collect();
        many.insert("count".into(), json!(3000));
        let mut v = json!({"parts": Value::Object(many), "ok": true});
        let cuts = to_budget(&mut v, 4000);
        assert!(size(&v) <= 4000, "{}", size(&v));
        assert!(
            cuts.iter()
                .all(|c| c.unit == Unit::Bytes && c.pointer.matches('/').count() <= 2),
            "{:?}",
            cuts.iter().find(|c| c.pointer.matches('/').count() > 2)
        );
        assert_eq!(v["ok"], true);
    }

    #[test]
    fn water_level_is_the_highest_fair_cap() {
        assert_eq!(water_level([10, 20, 30].into_iter(), 100), 30);
        assert_eq!(water_level([10, 20, 300].into_iter(), 100), 70);
        assert_eq!(water_level([50, 60, 300].into_iter(), 90), 30);
        assert_eq!(water_level(std::iter::empty(), 10), 0);
    }
}
