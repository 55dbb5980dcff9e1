//! The contract-spec catalog: public facts from CME Group's contract specifications.
//!
//! Prices are in the exchange's quoting unit (grains and livestock in **cents**, as CME quotes
//! them), and `multiplier` is dollars per one point of that unit, so
//! `tick_value = multiplier * tick_size` always holds.
//!
//! # Sources
//!
//! Every row was transcribed from the exchange's own contract-spec page ("Contract Unit",
//! "Minimum Price Fluctuation", "Listed Contracts", "Termination of Trading", "Trading Hours"):
//! cmegroup.com for the CME, CBOT, NYMEX and COMEX roots, theice.com for the ICE US softs and
//! cboe.com for VX. The CME text stored in `shared/data/converted/rtl/futuresRef_specifications.csv`
//! (CL, NG, RB, HO, ZN, SOFR) was used as written. Micro Agricultural futures (MZC MZW MZS MZL
//! MZM, launched 2025-02-24) follow CME's Micro Ag FAQ: 1/10 of the standard size, financially
//! settled, ticks twice the standard tick in price. `tick_value` is the dollar value the
//! exchange states, kept separately so the catalog test can check it against
//! `multiplier * tick_size`; `tests/specs_catalog.rs` also checks every root Lean knows against
//! Lean's `symbol-properties-database.csv`.
//!
//! Not in the catalog: European roots (DAX, FTSE, STOXX, Bobl, Bund, Gilt) trade on Eurex and
//! ICE Futures Europe, not CME Group. `MXP` is not a CME root (the Mexican peso future is
//! `6M`; CME lists no micro peso and no crypto called MXP).

use std::sync::LazyLock;

use chrono::NaiveTime;
use serde::Serialize;

use crate::error::{DataError, Result};

/// Contract specification of one futures root.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractSpec {
    /// Root ticker, e.g. `ES`.
    pub root: &'static str,
    /// Full contract name as the exchange lists it, e.g. `E-mini S&P 500`.
    pub name: &'static str,
    /// CME, CBOT, NYMEX or COMEX (or the real venue for non-CME roots: `ICE US`, `CFE`).
    pub exchange: &'static str,
    /// equity_index, energy, metals, grains, rates, fx, crypto, livestock, lumber, softs,
    /// volatility.
    pub sector: &'static str,
    /// Currency of `multiplier` and `tick_value` (ISO code; USD except a few roots such as `NIY`).
    pub currency: &'static str,
    /// Dollars (of `currency`) per one point of price.
    pub multiplier: f64,
    /// Minimum price increment, in price points.
    pub tick_size: f64,
    /// Dollars per tick (`multiplier * tick_size`).
    pub tick_value: f64,
    /// Micro contracts pay the micro default commission ($1.00/side instead of $2.50).
    pub micro: bool,
    /// Every contract month code the exchange lists, e.g. `HMUZ` (all twelve for GC, whose
    /// serial months are listed but thin).
    pub months: &'static str,
    /// The months a front-month continuous series holds: the liquid cycle, a subset of
    /// `months` (e.g. GC lists all twelve months but trades `GJMQVZ`).
    pub roll_months: &'static str,
    /// Quoting unit of the price, e.g. `index points`, `cents per bushel`.
    pub price_unit: &'static str,
    /// Last-trade rule in words.
    pub expiry_rule: &'static str,
    /// When a front-month follower rolls, in words.
    pub roll_rule: &'static str,
    /// Calendar days before expiry at which the continuous series rolls by default.
    pub roll_days_before_expiry: u32,
    /// IANA time zone of the exchange (sessions are expressed in it).
    pub timezone: &'static str,
    /// Session open (the evening before the trading date, when later than the close).
    pub session_open: NaiveTime,
    /// Session close on the trading date; a daily bar ends here.
    pub session_close: NaiveTime,
    /// Trading hours in words, e.g. `Sun-Fri 17:00-16:00 CT, daily halt 16:00-17:00`.
    pub hours: &'static str,
}

impl ContractSpec {
    /// Default commission per contract per side: $1.00 for micros, $2.50 for full size.
    pub fn default_commission(&self) -> f64 {
        if self.micro {
            1.00
        } else {
            2.50
        }
    }

    /// Converts a price to a whole number of ticks (rounded to the nearest tick).
    pub fn to_ticks(&self, price: f64) -> i64 {
        (price / self.tick_size).round() as i64
    }
}

/// Looks up a root (case-insensitive).
pub fn spec(root: &str) -> Result<&'static ContractSpec> {
    let r = root.trim().to_ascii_uppercase();
    all()
        .iter()
        .find(|s| s.root == r)
        .ok_or_else(|| DataError::UnknownSymbol {
            asked: root.to_string(),
            near: near(root).join(", "),
        })
}

/// The known roots nearest to an unknown one, at most five: those that contain it or that it
/// contains, with their micro and mini kin (`ESX` gives ES, MES), else those at the smallest
/// edit distance (`CLL` gives CL).
pub fn near(asked: &str) -> Vec<&'static str> {
    let asked = asked.trim().to_ascii_uppercase();
    let roots: Vec<&'static str> = all().iter().map(|s| s.root).collect();
    let related: Vec<&'static str> = roots
        .iter()
        .copied()
        .filter(|r| r.len() >= 2 && !asked.is_empty() && (asked.contains(r) || r.contains(&asked)))
        .collect();
    let mut near: Vec<&'static str> = roots
        .iter()
        .copied()
        .filter(|r| related.iter().any(|k| r.contains(k)))
        .collect();
    if near.is_empty() {
        let distance = |r: &str| strsim::levenshtein(&asked, r);
        let best = roots.iter().map(|r| distance(r)).min().unwrap_or(0);
        near = roots
            .iter()
            .copied()
            .filter(|r| distance(r) == best)
            .collect();
    }
    // Shortest first (the full-size root before its micro), then alphabetical.
    near.sort_by_key(|r| (r.len(), *r));
    near.truncate(5);
    near
}

/// Every root in the catalog, sorted by sector then root.
pub fn all() -> &'static [ContractSpec] {
    &CATALOG
}

static CATALOG: LazyLock<Vec<ContractSpec>> = LazyLock::new(|| {
    let mut specs = table();
    specs.sort_by(|a, b| (a.sector, a.root).cmp(&(b.sector, b.root)));
    specs
});

/// Trading hours of one venue/product family, in the venue's local time.
struct Session {
    timezone: &'static str,
    open: (u32, u32),
    close: (u32, u32),
    hours: &'static str,
}

const CHICAGO: &str = "America/Chicago";
const NEW_YORK: &str = "America/New_York";

/// CME Globex for index, energy, metals, rates, FX and crypto.
const GLOBEX: Session = Session {
    timezone: CHICAGO,
    open: (17, 0),
    close: (16, 0),
    hours: "Sun-Fri 17:00-16:00 CT, daily halt 16:00-17:00",
};
/// CBOT grains and oilseeds (standard and micro): overnight and day session.
const GRAIN_HOURS: Session = Session {
    timezone: CHICAGO,
    open: (19, 0),
    close: (13, 20),
    hours: "Sun-Fri 19:00-07:45 CT and Mon-Fri 08:30-13:20 CT",
};
const LIVESTOCK_HOURS: Session = Session {
    timezone: CHICAGO,
    open: (8, 30),
    close: (13, 5),
    hours: "Mon-Fri 08:30-13:05 CT",
};
const LUMBER_HOURS: Session = Session {
    timezone: CHICAGO,
    open: (9, 0),
    close: (15, 5),
    hours: "Mon-Fri 09:00-15:05 CT",
};
const CFE_HOURS: Session = Session {
    timezone: CHICAGO,
    open: (17, 0),
    close: (16, 0),
    hours: "CFE: Sun-Fri 17:00-16:00 CT, daily halt 16:00-17:00",
};
const COFFEE_HOURS: Session = Session {
    timezone: NEW_YORK,
    open: (4, 15),
    close: (13, 30),
    hours: "ICE: Mon-Fri 04:15-13:30 ET",
};
const COCOA_HOURS: Session = Session {
    timezone: NEW_YORK,
    open: (4, 45),
    close: (13, 30),
    hours: "ICE: Mon-Fri 04:45-13:30 ET",
};
const SUGAR_HOURS: Session = Session {
    timezone: NEW_YORK,
    open: (3, 30),
    close: (13, 0),
    hours: "ICE: Mon-Fri 03:30-13:00 ET",
};
const COTTON_HOURS: Session = Session {
    timezone: NEW_YORK,
    open: (21, 0),
    close: (14, 20),
    hours: "ICE: Sun-Fri 21:00-14:20 ET",
};

/// A roll rule: words plus the default calendar-day offset before expiry.
struct Roll(&'static str, u32);

/// Cash-settled quarterly index futures: roll on the Thursday a week before expiry.
const ROLL_INDEX: Roll = Roll("roll 8 days before expiry (second Thursday)", 8);
/// Contracts that expire before any delivery notice (energy, cash-settled micros, VX, SB).
const ROLL_5D: Roll = Roll(
    "roll 5 days before expiry, as volume moves to the next month",
    5,
);
/// FX, crypto and cash-settled livestock: one week before expiry.
const ROLL_WEEK: Roll = Roll("roll one week before expiry", 7);
/// Physically delivered grains, lumber and cotton: expiry falls about two weeks after first
/// notice day.
const ROLL_FND_20: Roll = Roll("roll 20 days before expiry, ahead of first notice day", 20);
/// Treasury bonds and 10-year notes: expiry 7 business days before the end of the contract
/// month, first notice at the end of the prior month.
const ROLL_FND_25: Roll = Roll("roll 25 days before expiry, ahead of first notice day", 25);
/// Contracts that expire late in the contract month, a month after first notice: 2- and
/// 5-year notes, COMEX/NYMEX metals, live cattle.
const ROLL_FND_35: Roll = Roll("roll 35 days before expiry, ahead of first notice day", 35);
/// ICE coffee and cocoa: first notice falls five to six weeks before last trade.
const ROLL_FND_40: Roll = Roll("roll 40 days before expiry, ahead of first notice day", 40);

const ALL: &str = "FGHJKMNQUVXZ";
const HMUZ: &str = "HMUZ";

// Last-trade rules shared by several roots.
pub(crate) const EXP_INDEX: &str = "third Friday of the contract month, 09:30 ET";
pub(crate) const EXP_NIKKEI: &str =
    "Thursday before the second Friday of the contract month, 17:00 ET";
pub(crate) const EXP_METAL: &str = "third last business day of the contract month";
pub(crate) const EXP_GRAIN: &str =
    "business day before the 15th calendar day of the contract month";
pub(crate) const EXP_MICRO_AG: &str =
    "Friday at least 2 business days before the last business day of \
                            the month before the contract month (cash-settled)";
pub(crate) const EXP_BOND: &str = "12:01 CT, 7th business day before the last business day of the \
                        contract month";
pub(crate) const EXP_NOTE: &str = "12:01 CT, last business day of the contract month";
pub(crate) const EXP_FX: &str = "09:16 CT, second business day before the third Wednesday of the \
                      contract month";
pub(crate) const EXP_CRYPTO: &str = "last Friday of the contract month, 16:00 London time";
pub(crate) const EXP_HO_RB: &str = "last business day of the month before the contract month";

// Price units shared by several roots.
const IDX: &str = "index points";
const USD_OZ: &str = "USD per troy ounce";
const USD_LB: &str = "USD per pound";
const C_BU: &str = "cents per bushel";
const C_LB: &str = "cents per pound";
const PTS: &str = "points (percent of par; CME quotes fractions in 32nds)";

/// One catalog row. `micro`, `currency` default to full size and USD (see [`Row`] methods).
#[allow(clippy::too_many_arguments)]
fn r(
    root: &'static str,
    name: &'static str,
    exchange: &'static str,
    sector: &'static str,
    multiplier: f64,
    tick_size: f64,
    tick_value: f64,
    months: &'static str,
    roll_months: &'static str,
    price_unit: &'static str,
    expiry_rule: &'static str,
    roll: Roll,
    session: Session,
) -> ContractSpec {
    let t = |(h, m): (u32, u32)| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
    ContractSpec {
        root,
        name,
        exchange,
        sector,
        currency: "USD",
        multiplier,
        tick_size,
        tick_value,
        micro: false,
        months,
        roll_months,
        price_unit,
        expiry_rule,
        roll_rule: roll.0,
        roll_days_before_expiry: roll.1,
        timezone: session.timezone,
        session_open: t(session.open),
        session_close: t(session.close),
        hours: session.hours,
    }
}

/// Modifiers for the few rows that differ from the defaults of [`r`].
trait Row {
    fn micro(self) -> Self;
    fn currency(self, currency: &'static str) -> Self;
}

impl Row for ContractSpec {
    fn micro(self) -> Self {
        ContractSpec {
            micro: true,
            ..self
        }
    }
    fn currency(self, currency: &'static str) -> Self {
        ContractSpec { currency, ..self }
    }
}

/// The catalog, one root per line:
/// root, name, exchange, sector, multiplier, tick size, tick value (as the exchange states it),
/// listed months, roll months, price unit, last-trade rule, roll rule, session.
#[rustfmt::skip]
fn table() -> Vec<ContractSpec> {
    const EQ: &str = "equity_index";
    const EN: &str = "energy";
    const MT: &str = "metals";
    const GR: &str = "grains";
    const RT: &str = "rates";
    const FX: &str = "fx";
    const CR: &str = "crypto";
    const LV: &str = "livestock";
    vec![
        // Equity indices (CME; Dow on CBOT).
        r("ES",  "E-mini S&P 500",              "CME",  EQ, 50.0,  0.25, 12.50, HMUZ, HMUZ, IDX, EXP_INDEX, ROLL_INDEX, GLOBEX),
        r("NQ",  "E-mini Nasdaq-100",           "CME",  EQ, 20.0,  0.25, 5.00,  HMUZ, HMUZ, IDX, EXP_INDEX, ROLL_INDEX, GLOBEX),
        r("YM",  "E-mini Dow ($5)",             "CBOT", EQ, 5.0,   1.0,  5.00,  HMUZ, HMUZ, IDX, EXP_INDEX, ROLL_INDEX, GLOBEX),
        r("RTY", "E-mini Russell 2000",         "CME",  EQ, 50.0,  0.10, 5.00,  HMUZ, HMUZ, IDX, EXP_INDEX, ROLL_INDEX, GLOBEX),
        r("EMD", "E-mini S&P MidCap 400",       "CME",  EQ, 100.0, 0.10, 10.00, HMUZ, HMUZ, IDX, EXP_INDEX, ROLL_INDEX, GLOBEX),
        r("MES", "Micro E-mini S&P 500",        "CME",  EQ, 5.0,   0.25, 1.25,  HMUZ, HMUZ, IDX, EXP_INDEX, ROLL_INDEX, GLOBEX).micro(),
        r("MNQ", "Micro E-mini Nasdaq-100",     "CME",  EQ, 2.0,   0.25, 0.50,  HMUZ, HMUZ, IDX, EXP_INDEX, ROLL_INDEX, GLOBEX).micro(),
        r("MYM", "Micro E-mini Dow",            "CBOT", EQ, 0.5,   1.0,  0.50,  HMUZ, HMUZ, IDX, EXP_INDEX, ROLL_INDEX, GLOBEX).micro(),
        r("M2K", "Micro E-mini Russell 2000",   "CME",  EQ, 5.0,   0.10, 0.50,  HMUZ, HMUZ, IDX, EXP_INDEX, ROLL_INDEX, GLOBEX).micro(),
        r("NKD", "Nikkei 225 (USD)",            "CME",  EQ, 5.0,   5.0,  25.00, HMUZ, HMUZ, IDX, EXP_NIKKEI, ROLL_INDEX, GLOBEX),
        r("NIY", "Nikkei 225 (Yen)",            "CME",  EQ, 500.0, 5.0,  2500.0, ALL, HMUZ, IDX, EXP_NIKKEI, ROLL_INDEX, GLOBEX).currency("JPY"),
        // Energy (NYMEX).
        r("CL",  "WTI Crude Oil",               "NYMEX", EN, 1000.0,  0.01,  10.00, ALL, ALL, "USD per barrel",
          "3 business days before the 25th calendar day of the month before the contract month (4 if the 25th is not a business day)", ROLL_5D, GLOBEX),
        r("MCL", "Micro WTI Crude Oil",         "NYMEX", EN, 100.0,   0.01,  1.00,  ALL, ALL, "USD per barrel",
          "4 business days before the 25th calendar day of the month before the contract month, one business day before CL (cash-settled)", ROLL_5D, GLOBEX).micro(),
        r("BZ",  "Brent Crude Oil Last Day Financial", "NYMEX", EN, 1000.0, 0.01, 10.00, ALL, ALL, "USD per barrel",
          "last business day of the second month before the contract month", ROLL_5D, GLOBEX),
        r("NG",  "Henry Hub Natural Gas",       "NYMEX", EN, 10000.0, 0.001, 10.00, ALL, ALL, "USD per MMBtu",
          "3rd last business day of the month before the contract month", ROLL_5D, GLOBEX),
        r("MNG", "Micro Henry Hub Natural Gas", "NYMEX", EN, 1000.0,  0.001, 1.00,  ALL, ALL, "USD per MMBtu",
          "one business day before the NG contract of the same month expires (cash-settled)", ROLL_5D, GLOBEX).micro(),
        r("HO",  "NY Harbor ULSD (Heating Oil)", "NYMEX", EN, 42000.0, 0.0001, 4.20, ALL, ALL, "USD per gallon", EXP_HO_RB, ROLL_5D, GLOBEX),
        r("RB",  "RBOB Gasoline",               "NYMEX", EN, 42000.0, 0.0001, 4.20, ALL, ALL, "USD per gallon", EXP_HO_RB, ROLL_5D, GLOBEX),
        // Metals (COMEX; platinum and palladium on NYMEX).
        r("GC",  "Gold",                        "COMEX", MT, 100.0,   0.10,   10.00, ALL, "GJMQVZ", USD_OZ, EXP_METAL, ROLL_FND_35, GLOBEX),
        r("MGC", "Micro Gold",                  "COMEX", MT, 10.0,    0.10,   1.00,  ALL, "GJMQVZ", USD_OZ, EXP_METAL, ROLL_FND_35, GLOBEX).micro(),
        r("SI",  "Silver",                      "COMEX", MT, 5000.0,  0.005,  25.00, ALL, "HKNUZ",  USD_OZ, EXP_METAL, ROLL_FND_35, GLOBEX),
        r("SIL", "Micro Silver (1,000 oz)",     "COMEX", MT, 1000.0,  0.005,  5.00,  ALL, "HKNUZ",  USD_OZ, EXP_METAL, ROLL_FND_35, GLOBEX).micro(),
        r("HG",  "Copper",                      "COMEX", MT, 25000.0, 0.0005, 12.50, ALL, "HKNUZ",  USD_LB, EXP_METAL, ROLL_FND_35, GLOBEX),
        r("MHG", "Micro Copper",                "COMEX", MT, 2500.0,  0.0005, 1.25,  ALL, "HKNUZ",  USD_LB,
          "12:00 CT, third last business day of the month before the contract month (cash-settled)", ROLL_5D, GLOBEX).micro(),
        r("PL",  "Platinum",                    "NYMEX", MT, 50.0,    0.10,   5.00,  ALL, "FJNV",   USD_OZ, EXP_METAL, ROLL_FND_35, GLOBEX),
        r("PA",  "Palladium",                   "NYMEX", MT, 100.0,   0.50,   50.00, ALL, HMUZ,     USD_OZ, EXP_METAL, ROLL_FND_35, GLOBEX),
        // Grains and oilseeds (CBOT), in cents like CME quotes them; meal in USD per short ton.
        r("ZC",  "Corn",                        "CBOT", GR, 50.0,  0.25, 12.50, "HKNUZ",    "HKNUZ",    C_BU, EXP_GRAIN, ROLL_FND_20, GRAIN_HOURS),
        r("ZW",  "Chicago SRW Wheat",           "CBOT", GR, 50.0,  0.25, 12.50, "HKNUZ",    "HKNUZ",    C_BU, EXP_GRAIN, ROLL_FND_20, GRAIN_HOURS),
        r("ZS",  "Soybeans",                    "CBOT", GR, 50.0,  0.25, 12.50, "FHKNQUX",  "FHKNQUX",  C_BU, EXP_GRAIN, ROLL_FND_20, GRAIN_HOURS),
        r("ZL",  "Soybean Oil",                 "CBOT", GR, 600.0, 0.01, 6.00,  "FHKNQUVZ", "FHKNQUVZ", C_LB, EXP_GRAIN, ROLL_FND_20, GRAIN_HOURS),
        r("ZM",  "Soybean Meal",                "CBOT", GR, 100.0, 0.10, 10.00, "FHKNQUVZ", "FHKNQUVZ", "USD per short ton", EXP_GRAIN, ROLL_FND_20, GRAIN_HOURS),
        r("MZC", "Micro Corn",                  "CBOT", GR, 5.0,   0.50, 2.50,  "HKNUZ",    "HKNUZ",    C_BU, EXP_MICRO_AG, ROLL_5D, GRAIN_HOURS).micro(),
        r("MZW", "Micro Wheat",                 "CBOT", GR, 5.0,   0.50, 2.50,  "HKNUZ",    "HKNUZ",    C_BU, EXP_MICRO_AG, ROLL_5D, GRAIN_HOURS).micro(),
        r("MZS", "Micro Soybeans",              "CBOT", GR, 5.0,   0.50, 2.50,  "FHKNQUX",  "FHKNQUX",  C_BU, EXP_MICRO_AG, ROLL_5D, GRAIN_HOURS).micro(),
        r("MZL", "Micro Soybean Oil",           "CBOT", GR, 60.0,  0.02, 1.20,  "FHKNQUVZ", "FHKNQUVZ", C_LB, EXP_MICRO_AG, ROLL_5D, GRAIN_HOURS).micro(),
        r("MZM", "Micro Soybean Meal",          "CBOT", GR, 10.0,  0.20, 2.00,  "FHKNQUVZ", "FHKNQUVZ", "USD per short ton", EXP_MICRO_AG, ROLL_5D, GRAIN_HOURS).micro(),
        // Interest rates (CBOT Treasuries; SOFR on CME).
        r("ZT",  "2-Year T-Note",               "CBOT", RT, 2000.0, 0.00390625, 7.8125, HMUZ, HMUZ, PTS, EXP_NOTE, ROLL_FND_35, GLOBEX),
        r("ZF",  "5-Year T-Note",               "CBOT", RT, 1000.0, 0.0078125,  7.8125, HMUZ, HMUZ, PTS, EXP_NOTE, ROLL_FND_35, GLOBEX),
        r("ZN",  "10-Year T-Note",              "CBOT", RT, 1000.0, 0.015625,   15.625, HMUZ, HMUZ, PTS, EXP_BOND, ROLL_FND_25, GLOBEX),
        r("TN",  "Ultra 10-Year T-Note",        "CBOT", RT, 1000.0, 0.015625,   15.625, HMUZ, HMUZ, PTS, EXP_BOND, ROLL_FND_25, GLOBEX),
        r("ZB",  "U.S. Treasury Bond",          "CBOT", RT, 1000.0, 0.03125,    31.25,  HMUZ, HMUZ, PTS, EXP_BOND, ROLL_FND_25, GLOBEX),
        r("UB",  "Ultra U.S. Treasury Bond",    "CBOT", RT, 1000.0, 0.03125,    31.25,  HMUZ, HMUZ, PTS, EXP_BOND, ROLL_FND_25, GLOBEX),
        // SR3 ticks 0.005 ($12.50) when more than four months from expiry; the catalog keeps
        // the finer near-month tick so every traded price is on the grid.
        r("SR3", "Three-Month SOFR",            "CME",  RT, 2500.0, 0.0025,     6.25,   ALL,  HMUZ, "IMM index points (100 minus rate)",
          "business day before the third Wednesday of the month 3 months after the contract month (end of the reference quarter)", ROLL_5D, GLOBEX),
        // FX (CME), quoted in USD per unit of the foreign currency.
        r("6E",  "Euro FX",                     "CME", FX, 125000.0,   0.00005,   6.25, ALL, HMUZ, "USD per EUR", EXP_FX, ROLL_WEEK, GLOBEX),
        r("6B",  "British Pound",               "CME", FX, 62500.0,    0.0001,    6.25, ALL, HMUZ, "USD per GBP", EXP_FX, ROLL_WEEK, GLOBEX),
        r("6J",  "Japanese Yen",                "CME", FX, 12500000.0, 0.0000005, 6.25, ALL, HMUZ, "USD per JPY", EXP_FX, ROLL_WEEK, GLOBEX),
        r("6A",  "Australian Dollar",           "CME", FX, 100000.0,   0.00005,   5.00, ALL, HMUZ, "USD per AUD", EXP_FX, ROLL_WEEK, GLOBEX),
        r("6C",  "Canadian Dollar",             "CME", FX, 100000.0,   0.00005,   5.00, ALL, HMUZ, "USD per CAD",
          "09:16 CT, business day before the third Wednesday of the contract month", ROLL_WEEK, GLOBEX),
        r("6S",  "Swiss Franc",                 "CME", FX, 125000.0,   0.00005,   6.25, ALL, HMUZ, "USD per CHF", EXP_FX, ROLL_WEEK, GLOBEX),
        r("6N",  "New Zealand Dollar",          "CME", FX, 100000.0,   0.00005,   5.00, ALL, HMUZ, "USD per NZD", EXP_FX, ROLL_WEEK, GLOBEX),
        r("6M",  "Mexican Peso",                "CME", FX, 500000.0,   0.00001,   5.00, ALL, HMUZ, "USD per MXN", EXP_FX, ROLL_WEEK, GLOBEX),
        r("M6E", "Micro EUR/USD",               "CME", FX, 12500.0,    0.0001,    1.25,  HMUZ, HMUZ, "USD per EUR", EXP_FX, ROLL_WEEK, GLOBEX).micro(),
        r("M6B", "Micro GBP/USD",               "CME", FX, 6250.0,     0.0001,    0.625, HMUZ, HMUZ, "USD per GBP", EXP_FX, ROLL_WEEK, GLOBEX).micro(),
        r("M6A", "Micro AUD/USD",               "CME", FX, 10000.0,    0.0001,    1.00,  HMUZ, HMUZ, "USD per AUD", EXP_FX, ROLL_WEEK, GLOBEX).micro(),
        // Crypto (CME, cash-settled to the CME CF reference rates).
        r("BTC", "Bitcoin",                     "CME", CR, 5.0,  5.0, 25.00, ALL, ALL, "USD per bitcoin", EXP_CRYPTO, ROLL_WEEK, GLOBEX),
        r("MBT", "Micro Bitcoin",               "CME", CR, 0.1,  5.0, 0.50,  ALL, ALL, "USD per bitcoin", EXP_CRYPTO, ROLL_WEEK, GLOBEX).micro(),
        r("ETH", "Ether",                       "CME", CR, 50.0, 0.5, 25.00, ALL, ALL, "USD per ether",   EXP_CRYPTO, ROLL_WEEK, GLOBEX),
        r("MET", "Micro Ether",                 "CME", CR, 0.1,  0.5, 0.05,  ALL, ALL, "USD per ether",   EXP_CRYPTO, ROLL_WEEK, GLOBEX).micro(),
        // Livestock (CME), in cents per pound.
        r("LE",  "Live Cattle",                 "CME", LV, 400.0, 0.025, 10.00, "GJMQVZ",   "GJMQVZ",   C_LB,
          "12:00 CT, last business day of the contract month", ROLL_FND_35, LIVESTOCK_HOURS),
        r("HE",  "Lean Hogs",                   "CME", LV, 400.0, 0.025, 10.00, "GJKMNQVZ", "GJKMNQVZ", C_LB,
          "12:00 CT, 10th business day of the contract month (cash-settled)", ROLL_WEEK, LIVESTOCK_HOURS),
        r("GF",  "Feeder Cattle",               "CME", LV, 500.0, 0.025, 12.50, "FHJKQUVX", "FHJKQUVX", C_LB,
          "last Thursday of the contract month, with holiday exceptions in November (cash-settled)", ROLL_WEEK, LIVESTOCK_HOURS),
        // Lumber (CME, 27,500 board feet).
        r("LBR", "Lumber",                      "CME", "lumber", 27.5, 0.50, 13.75, "FHKNUX", "FHKNUX", "USD per 1,000 board feet",
          "business day before the 16th calendar day of the contract month", ROLL_FND_20, LUMBER_HOURS),
        // Softs: ICE Futures U.S., not CME Group.
        r("KC",  "Coffee \"C\"",                "ICE US", "softs", 375.0,  0.05, 18.75, "HKNUZ", "HKNUZ", C_LB,
          "business day before last notice day (last notice: 7 business days before the last business day of the contract month)", ROLL_FND_40, COFFEE_HOURS),
        r("CC",  "Cocoa",                       "ICE US", "softs", 10.0,   1.0,  10.00, "HKNUZ", "HKNUZ", "USD per metric ton",
          "business day before last notice day (last notice: 10 business days before the last business day of the contract month)", ROLL_FND_40, COCOA_HOURS),
        r("SB",  "Sugar No. 11",                "ICE US", "softs", 1120.0, 0.01, 11.20, "HKNV",  "HKNV",  C_LB,
          "last business day of the month before the contract month", ROLL_5D, SUGAR_HOURS),
        r("CT",  "Cotton No. 2",                "ICE US", "softs", 500.0,  0.01, 5.00,  "HKNVZ", "HKNVZ", C_LB,
          "17 business days before the end of the contract month", ROLL_FND_20, COTTON_HOURS),
        // Volatility: Cboe Futures Exchange, not CME Group.
        r("VX",  "Cboe VIX",                    "CFE", "volatility", 1000.0, 0.05, 50.00, ALL, ALL, "VIX index points",
          "Wednesday 30 days before the third Friday of the following calendar month", ROLL_5D, CFE_HOURS),
    ]
}
