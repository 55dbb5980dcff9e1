//! The contract-spec catalog against an independent source (QuantConnect Lean's
//! `symbol-properties-database.csv` in `shared/data/raw/lean`) and against its own invariants.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use settle_data::specs::{all, spec, ContractSpec};
use settle_data::DataError;

/// Lean markets that hold CME Group futures, plus the real venues of the non-CME roots.
const LEAN_MARKETS: [&str; 6] = ["cme", "cbot", "nymex", "comex", "cfe", "ice"];

/// Catalog roots Lean's databases (symbol properties and market hours) do not list: newer
/// products, or not in this snapshot. Every other catalog root must be found in Lean and match.
const NOT_IN_LEAN: [&str; 8] = ["MHG", "MNG", "MZC", "MZL", "MZM", "MZS", "MZW", "SR3"];

/// Roots where Lean quotes a cents product in dollars *without* a price magnifier, so its
/// tick and multiplier differ by 100 from the exchange's cents quote while the tick value
/// agrees. Each entry: root, the factor between our price unit and Lean's, and why.
const QUOTE_UNIT_EXCEPTIONS: [(&str, f64, &str); 2] = [
    // ICE quotes Coffee "C" in cents/lb (tick 0.05 = $18.75); Lean: 37500 x 0.0005, magnifier 1.
    (
        "KC",
        100.0,
        "Lean quotes coffee in USD/lb with no price magnifier",
    ),
    // ICE quotes Sugar No. 11 in cents/lb (tick 0.01 = $11.20); Lean: 112000 x 0.0001, magnifier 1.
    (
        "SB",
        100.0,
        "Lean quotes sugar in USD/lb with no price magnifier",
    ),
];

/// One futures row of Lean's symbol-properties database.
#[derive(Debug)]
struct LeanRow {
    market: String,
    currency: String,
    multiplier: f64,
    tick: f64,
    magnifier: f64,
}

fn shared_data() -> PathBuf {
    let dir = std::env::var_os("SETTLE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    assert!(
        dir.is_dir(),
        "real data not found at {}: set SETTLE_SHARED_DATA to the shared/data folder",
        dir.display()
    );
    dir
}

/// Lean's futures rows in [`LEAN_MARKETS`], keyed by symbol (one symbol may sit in several
/// markets).
fn lean_futures() -> BTreeMap<String, Vec<LeanRow>> {
    let path = shared_data().join("raw/lean/symbol-properties/symbol-properties-database.csv");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .comment(Some(b'#'))
        .from_path(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().expect("header row").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", path.display()))
    };
    let (market, symbol, kind, currency, multiplier, tick, magnifier) = (
        col("market"),
        col("symbol"),
        col("type"),
        col("quote_currency"),
        col("contract_multiplier"),
        col("minimum_price_variation"),
        col("price_magnifier"),
    );
    let mut rows: BTreeMap<String, Vec<LeanRow>> = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap_or_else(|e| panic!("{}: row {i}: {e}", path.display()));
        let field = |c: usize| record.get(c).unwrap_or("").trim();
        let number = |c: usize| -> f64 {
            field(c)
                .parse()
                .unwrap_or_else(|e| panic!("{}: row {i} column {c}: {e}", path.display()))
        };
        if field(kind) != "future" || !LEAN_MARKETS.contains(&field(market)) {
            continue;
        }
        let row = LeanRow {
            market: field(market).to_string(),
            currency: field(currency).to_string(),
            multiplier: number(multiplier),
            tick: number(tick),
            // An empty magnifier means 1: Lean's price equals the exchange's.
            magnifier: if field(magnifier).is_empty() {
                1.0
            } else {
                number(magnifier)
            },
        };
        rows.entry(field(symbol).to_string()).or_default().push(row);
    }
    rows
}

/// The Lean market name of a catalog exchange.
fn lean_market(exchange: &str) -> &'static str {
    match exchange {
        "CME" => "cme",
        "CBOT" => "cbot",
        "NYMEX" => "nymex",
        "COMEX" => "comex",
        "ICE US" => "ice",
        "CFE" => "cfe",
        other => panic!("exchange {other} has no Lean market"),
    }
}

/// Equal to within a relative 1e-9 (ticks run from 5e-7 to 5).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Every difference between one catalog spec and its Lean row, as readable lines.
fn compare(s: &ContractSpec, lean: &LeanRow) -> Vec<String> {
    // Lean price = exchange price / magnifier; so Lean tick = our tick / m and Lean
    // multiplier = our multiplier * m, and the dollar tick value is the same.
    let m = QUOTE_UNIT_EXCEPTIONS
        .iter()
        .find(|(root, _, _)| *root == s.root)
        .map_or(lean.magnifier, |(_, factor, _)| *factor);
    let mut problems = Vec::new();
    let mut check = |what: &str, ours: f64, theirs: f64| {
        if !close(ours, theirs) {
            problems.push(format!(
                "{}: {what}: catalog {ours} vs Lean {theirs}",
                s.root
            ));
        }
    };
    check("tick size in Lean units", s.tick_size / m, lean.tick);
    check(
        "multiplier in Lean units",
        s.multiplier * m,
        lean.multiplier,
    );
    check("tick value", s.tick_value, lean.multiplier * lean.tick);
    if s.currency != lean.currency {
        problems.push(format!(
            "{}: currency: catalog {} vs Lean {}",
            s.root, s.currency, lean.currency
        ));
    }
    problems
}

#[test]
fn every_root_lean_knows_matches_lean() {
    let lean = lean_futures();
    let mut problems = Vec::new();
    let mut compared = 0;
    for s in all() {
        let absent = NOT_IN_LEAN.contains(&s.root);
        match (lean.get(s.root), absent) {
            (None, true) => {}
            (None, false) => problems.push(format!("{}: not in Lean's database", s.root)),
            (Some(_), true) => {
                problems.push(format!("{}: listed in NOT_IN_LEAN but Lean has it", s.root))
            }
            (Some(rows), false) => {
                let want = lean_market(s.exchange);
                match rows.iter().find(|r| r.market == want) {
                    Some(row) => {
                        compared += 1;
                        problems.extend(compare(s, row));
                    }
                    None => problems.push(format!(
                        "{}: exchange {} but Lean lists it under {:?}",
                        s.root,
                        s.exchange,
                        rows.iter().map(|r| r.market.as_str()).collect::<Vec<_>>()
                    )),
                }
            }
        }
    }
    assert_all_compared_without_problems(&problems, compared);
}

#[test]
fn quote_unit_exceptions_are_still_needed() {
    // If Lean ever adds a magnifier for these roots, the exception must go.
    let lean = lean_futures();
    for (root, factor, why) in QUOTE_UNIT_EXCEPTIONS {
        let row = &lean[root][0];
        assert_eq!(row.magnifier, 1.0, "{root}: {why}");
        let s = spec(root).unwrap();
        assert!(close(s.tick_size / factor, row.tick), "{root}: {why}");
    }
}

/// Lean's session of one root on a Wednesday, as (open, close) in Lean's exchange time zone.
///
/// Lean splits CME Globex into premarket/market/postmarket segments that all trade, so their
/// union is the session: the open is the start of the segment that runs to midnight (the
/// evening session) or, for day-only products, the first start; the close is the latest end
/// before midnight. ICE's pre-open and post-close segments are order-entry periods without
/// matching, so only ICE's `market` segments count.
fn lean_session(entry: &serde_json::Value, ice: bool) -> (Tz, NaiveTime, NaiveTime) {
    let tz: Tz = entry["exchangeTimeZone"].as_str().unwrap().parse().unwrap();
    let time = |v: &serde_json::Value| NaiveTime::parse_from_str(v.as_str().unwrap(), "%H:%M:%S");
    let segments: Vec<&serde_json::Value> = entry["wednesday"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|seg| !ice || seg["state"] == "market")
        .collect();
    // Lean writes midnight of the next day as `1.00:00:00`, which does not parse as a time.
    let to_midnight = |seg: &&&serde_json::Value| seg["end"] == "1.00:00:00";
    let open = match segments.iter().rfind(to_midnight) {
        Some(seg) => time(&seg["start"]).unwrap(),
        None => segments
            .iter()
            .map(|seg| time(&seg["start"]).unwrap())
            .min()
            .unwrap(),
    };
    let close = segments
        .iter()
        .filter_map(|seg| time(&seg["end"]).ok())
        .max()
        .unwrap();
    (tz, open, close)
}

#[test]
fn sessions_match_lean_market_hours() {
    let path = shared_data().join("raw/lean/market-hours/market-hours-database.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let db: serde_json::Value = serde_json::from_str(&text).unwrap();
    // A Wednesday in winter: CT and ET are both on standard time, one hour apart.
    let day = NaiveDate::from_ymd_opt(2024, 1, 10).unwrap();
    let mut problems = Vec::new();
    let mut compared = 0;
    for s in all().iter().filter(|s| !NOT_IN_LEAN.contains(&s.root)) {
        let market = lean_market(s.exchange);
        let Some(entry) = db["entries"].get(format!("Future-{market}-{}", s.root)) else {
            problems.push(format!("{}: no Lean market-hours entry", s.root));
            continue;
        };
        let (lean_tz, open, close) = lean_session(entry, market == "ice");
        let ours: Tz = s.timezone.parse().unwrap();
        let local = |t: NaiveTime| {
            let instant = lean_tz.from_local_datetime(&day.and_time(t)).unwrap();
            instant.with_timezone(&ours).time()
        };
        compared += 1;
        if (local(open), local(close)) != (s.session_open, s.session_close) {
            problems.push(format!(
                "{}: catalog {}-{} vs Lean {}-{} {}",
                s.root,
                s.session_open,
                s.session_close,
                local(open),
                local(close),
                s.timezone
            ));
        }
    }
    assert_all_compared_without_problems(&problems, compared);
}

#[test]
fn tick_value_is_multiplier_times_tick() {
    let bad: Vec<String> = all()
        .iter()
        .filter(|s| (s.tick_value - s.multiplier * s.tick_size).abs() > 1e-9)
        .map(|s| {
            format!(
                "{}: {} x {} != {}",
                s.root, s.multiplier, s.tick_size, s.tick_value
            )
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Values worked out by hand from CME's spec text, in CME's quoting unit (cents for grains
/// and livestock): (root, multiplier, tick size, tick value).
#[test]
fn hand_checked_units() {
    let expected: [(&str, f64, f64, f64); 9] = [
        ("ZC", 50.0, 0.25, 12.50),          // 5,000 bu, 1/4 cent = $12.50
        ("ZL", 600.0, 0.01, 6.00),          // 60,000 lb, 0.01 cent = $6.00
        ("ZM", 100.0, 0.10, 10.00),         // 100 short tons, $0.10 = $10.00
        ("LE", 400.0, 0.025, 10.00),        // 40,000 lb, 0.025 cent = $10.00
        ("ZN", 1000.0, 0.015625, 15.625),   // half of 1/32 point
        ("ZF", 1000.0, 0.0078125, 7.8125),  // quarter of 1/32 point
        ("ZT", 2000.0, 0.00390625, 7.8125), // eighth of 1/32 point, $200,000 face
        ("ZB", 1000.0, 0.03125, 31.25),     // 1/32 point
        ("6J", 12_500_000.0, 0.0000005, 6.25),
    ];
    for (root, multiplier, tick, value) in expected {
        let s = spec(root).unwrap();
        assert_eq!(
            (s.multiplier, s.tick_size, s.tick_value),
            (multiplier, tick, value),
            "{root}"
        );
    }
}

#[test]
fn months_are_valid_ordered_codes() {
    const CODES: &str = "FGHJKMNQUVXZ";
    let ordered = |m: &str| {
        let idx: Vec<usize> = m
            .chars()
            .map(|c| CODES.find(c).unwrap_or(usize::MAX))
            .collect();
        !idx.is_empty() && !idx.contains(&usize::MAX) && idx.windows(2).all(|w| w[0] < w[1])
    };
    for s in all() {
        assert!(
            ordered(s.months),
            "{}: listed months {:?}",
            s.root,
            s.months
        );
        assert!(
            ordered(s.roll_months),
            "{}: roll months {:?}",
            s.root,
            s.roll_months
        );
        assert!(
            s.roll_months.chars().all(|c| s.months.contains(c)),
            "{}: roll months {} not all listed in {}",
            s.root,
            s.roll_months,
            s.months
        );
    }
}

#[test]
fn roots_are_unique_and_sorted_by_sector_then_root() {
    let mut seen = HashSet::new();
    for s in all() {
        assert!(seen.insert(s.root), "duplicate root {}", s.root);
    }
    let keys: Vec<(&str, &str)> = all().iter().map(|s| (s.sector, s.root)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn catalog_holds_every_requested_root() {
    let wanted = "ES NQ YM RTY EMD MES MNQ MYM M2K NKD NIY CL BZ NG HO RB MCL MNG GC SI HG PA PL \
                  MGC MHG SIL ZC ZW ZS ZL ZM MZC MZW MZS MZL MZM ZB ZN ZF ZT UB TN SR3 6E 6B 6J \
                  6A 6C 6M 6N 6S M6A M6B M6E BTC ETH MBT MET HE LE GF CC CT KC SB VX LBR";
    let missing: Vec<&str> = wanted
        .split_whitespace()
        .filter(|r| spec(r).is_err())
        .collect();
    assert!(missing.is_empty(), "missing roots: {missing:?}");
    assert_eq!(all().len(), wanted.split_whitespace().count());
}

#[test]
fn fields_are_well_formed() {
    const SECTORS: [&str; 11] = [
        "crypto",
        "energy",
        "equity_index",
        "fx",
        "grains",
        "livestock",
        "lumber",
        "metals",
        "rates",
        "softs",
        "volatility",
    ];
    const EXCHANGES: [&str; 6] = ["CME", "CBOT", "NYMEX", "COMEX", "ICE US", "CFE"];
    for s in all() {
        let r = s.root;
        assert!(
            s.timezone.parse::<Tz>().is_ok(),
            "{r}: time zone {}",
            s.timezone
        );
        assert!(SECTORS.contains(&s.sector), "{r}: sector {}", s.sector);
        assert!(
            EXCHANGES.contains(&s.exchange),
            "{r}: exchange {}",
            s.exchange
        );
        assert!(
            s.multiplier > 0.0 && s.tick_size > 0.0,
            "{r}: multiplier/tick"
        );
        assert!(s.roll_days_before_expiry > 0, "{r}: roll days");
        assert_ne!(s.session_open, s.session_close, "{r}: empty session");
        for (what, text) in [
            ("name", s.name),
            ("unit", s.price_unit),
            ("expiry", s.expiry_rule),
            ("roll", s.roll_rule),
            ("hours", s.hours),
        ] {
            assert!(!text.trim().is_empty(), "{r}: empty {what}");
        }
        assert_eq!(s.currency.len(), 3, "{r}: currency {}", s.currency);
    }
}

#[test]
fn micro_flag_matches_name_and_commission() {
    for s in all() {
        let named_micro = s.name.starts_with("Micro ");
        assert_eq!(
            s.micro, named_micro,
            "{}: micro flag vs name {:?}",
            s.root, s.name
        );
        let want = if s.micro { 1.00 } else { 2.50 };
        assert_eq!(s.default_commission(), want, "{}", s.root);
    }
}

#[test]
fn lookup_is_case_insensitive_and_rejects_unknown_roots() {
    assert_eq!(spec("es").unwrap().root, "ES");
    assert_eq!(spec(" mEs ").unwrap().root, "MES");
    assert_eq!(spec("6e").unwrap().name, "Euro FX");
    let err = spec("XYZ").unwrap_err();
    assert!(
        matches!(err, DataError::UnknownSymbol { ref asked, .. } if asked == "XYZ"),
        "{err}"
    );
    assert!(err.to_string().contains("XYZ"));
}

#[test]
fn unknown_roots_get_their_nearest_kin() {
    assert_eq!(settle_data::specs::near("ESX"), ["ES", "MES"]);
    assert_eq!(settle_data::specs::near("CLL"), ["CL", "MCL"]);
    let e = spec("ESX").unwrap_err().to_string();
    assert!(e.contains("did you mean ES, MES?"), "{e}");
    assert!(!e.contains("settle "), "no CLI command in the error: {e}");
}

#[test]
fn to_ticks_rounds_to_the_nearest_tick() {
    let es = spec("ES").unwrap();
    assert_eq!(es.to_ticks(4500.25), 18_001);
    assert_eq!(es.to_ticks(4500.30), 18_001); // off-grid price snaps to the nearest tick
    let zn = spec("ZN").unwrap();
    assert_eq!(zn.to_ticks(110.0 + 17.5 / 32.0), 7_075); // 110-17+ = 7075 half-32nds
}

/// Every root Lean knows was compared, and none disagreed.
fn assert_all_compared_without_problems(problems: &[String], compared: usize) {
    assert!(
        problems.is_empty(),
        "{} mismatch(es):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(compared, all().len() - NOT_IN_LEAN.len());
}
