//! What the rule language can name: price fields and indicators, and how each indicator is
//! computed from [`crate::indicators`].
//!
//! Parameter ranges are not repeated here: [`compute`] is also run on empty inputs during
//! validation, so the ranges checked are exactly the indicator functions' own.

use crate::indicators::{self as ind, IndicatorError, MaType};

/// A price field of each bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The bar's first price.
    Open,
    /// The bar's highest price.
    High,
    /// The bar's lowest price.
    Low,
    /// The bar's last price.
    Close,
    /// Contracts traded in the bar (`NaN` where the source has no volume).
    Volume,
    /// The typical price, (high + low + close) / 3.
    Typical,
    /// The midpoint, (high + low) / 2.
    Hl2,
}

/// Every field name accepted by [`Field::parse`].
pub const FIELDS: &str = "open, high, low, close, volume, typical, hl2";

impl Field {
    /// What the field is, in words (for the language description).
    pub fn meaning(self) -> &'static str {
        match self {
            Field::Open => "the bar's first price",
            Field::High => "the bar's highest price",
            Field::Low => "the bar's lowest price",
            Field::Close => "the bar's last price",
            Field::Volume => "contracts traded in the bar",
            Field::Typical => "(high + low + close) / 3",
            Field::Hl2 => "(high + low) / 2",
        }
    }

    /// The field named `s` (`open`, `hl2`, ...), exactly as [`FIELDS`] spells it; `None` for any
    /// other name.
    pub fn parse(s: &str) -> Option<Field> {
        Some(match s {
            "open" => Field::Open,
            "high" => Field::High,
            "low" => Field::Low,
            "close" => Field::Close,
            "volume" => Field::Volume,
            "typical" => Field::Typical,
            "hl2" => Field::Hl2,
            _ => return None,
        })
    }
}

/// What an indicator reads from the bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// One series given by `input` (default close).
    Series,
    /// High, low and close.
    Hlc,
    /// High, low, close, volume and session starts.
    Hlcv,
    /// High and low plus session starts.
    Session,
}

impl Reads {
    /// What is read, in words (for the language description).
    pub fn meaning(self) -> &'static str {
        match self {
            Reads::Series => "input (default close)",
            Reads::Hlc => "high, low, close",
            Reads::Hlcv => "high, low, close, volume, session starts",
            Reads::Session => "high, low, session starts",
        }
    }
}

/// One entry of the indicator catalog.
#[derive(Debug)]
pub struct Spec {
    /// The name a rule calls it by, e.g. `sma`.
    pub name: &'static str,
    /// What it computes, in one line: the language description shows it to rule writers.
    pub about: &'static str,
    /// What it reads from the bars.
    pub reads: Reads,
    /// Argument names in call order, with their default (`None` = required).
    pub args: &'static [(&'static str, Option<f64>)],
    /// Output names. With several, the first is the default unless `output_required` (bands:
    /// neither upper nor lower is an obvious default, so the rule must say which).
    pub outputs: &'static [&'static str],
    /// True when a call must name its `output` (bands: no output is an obvious default).
    pub output_required: bool,
}

const P: &[(&str, Option<f64>)] = &[("period", None)];
const ONE: &[&str] = &["value"];
const BANDS: &[&str] = &["upper", "middle", "lower"];

const fn single(name: &'static str, reads: Reads, about: &'static str) -> Spec {
    Spec {
        name,
        about,
        reads,
        args: P,
        outputs: ONE,
        output_required: false,
    }
}

/// ATR, also used directly for risk exits in ATR units.
pub const ATR: Spec = single(
    "atr",
    Reads::Hlc,
    "Wilder's average true range, in price points",
);

/// Every indicator the rule language knows.
pub const INDICATORS: &[Spec] = &[
    single(
        "sma",
        Reads::Series,
        "simple moving average of the last period values",
    ),
    single(
        "ema",
        Reads::Series,
        "exponential moving average (TA-Lib, seeded with the SMA)",
    ),
    single("wma", Reads::Series, "linearly weighted moving average"),
    single("dema", Reads::Series, "double exponential moving average"),
    single("tema", Reads::Series, "triple exponential moving average"),
    single("kama", Reads::Series, "Kaufman's adaptive moving average"),
    single(
        "rsi",
        Reads::Series,
        "Wilder's relative strength index, 0 to 100",
    ),
    single(
        "roc",
        Reads::Series,
        "rate of change in percent against period bars ago",
    ),
    single(
        "mom",
        Reads::Series,
        "momentum: the value minus the value period bars ago",
    ),
    single(
        "max",
        Reads::Series,
        "highest value of the last period bars, this bar included",
    ),
    single(
        "min",
        Reads::Series,
        "lowest value of the last period bars, this bar included",
    ),
    single(
        "linearreg_slope",
        Reads::Series,
        "slope per bar of the least-squares line through the last period values",
    ),
    Spec {
        name: "stddev",
        about: "standard deviation of the last period values, times nbdev",
        reads: Reads::Series,
        args: &[("period", None), ("nbdev", Some(1.0))],
        outputs: ONE,
        output_required: false,
    },
    Spec {
        name: "macd",
        about: "MACD line (EMA fast - EMA slow), its EMA signal line and hist = macd - signal",
        reads: Reads::Series,
        args: &[
            ("fast", Some(12.0)),
            ("slow", Some(26.0)),
            ("signal", Some(9.0)),
        ],
        outputs: &["macd", "signal", "hist"],
        output_required: false,
    },
    Spec {
        name: "bbands",
        about: "Bollinger bands: SMA(period) and SMA +/- nbdev standard deviations",
        reads: Reads::Series,
        args: &[("period", Some(20.0)), ("nbdev", Some(2.0))],
        outputs: BANDS,
        output_required: true,
    },
    ATR,
    single("natr", Reads::Hlc, "ATR as a percent of the close"),
    single(
        "adx",
        Reads::Hlc,
        "average directional index: trend strength, 0 to 100",
    ),
    single(
        "plus_di",
        Reads::Hlc,
        "plus directional indicator, 0 to 100",
    ),
    single(
        "minus_di",
        Reads::Hlc,
        "minus directional indicator, 0 to 100",
    ),
    single("cci", Reads::Hlc, "commodity channel index"),
    single("willr", Reads::Hlc, "Williams %R, -100 to 0"),
    Spec {
        name: "keltner",
        about: "Keltner channel: EMA(period) of the typical price +/- mult * ATR(atr_period)",
        reads: Reads::Hlc,
        args: &[
            ("period", Some(20.0)),
            ("atr_period", Some(10.0)),
            ("mult", Some(2.0)),
        ],
        outputs: BANDS,
        output_required: true,
    },
    Spec {
        name: "vwap",
        about: "session VWAP of the typical price, restarting at each session open",
        reads: Reads::Hlcv,
        args: &[],
        outputs: ONE,
        output_required: false,
    },
    Spec {
        name: "opening_range",
        about: "high and low of each session's first period bars, known from that bar on",
        reads: Reads::Session,
        args: P,
        outputs: &["high", "low"],
        output_required: true,
    },
];

/// The catalog entry called `name`.
pub fn find(name: &str) -> Option<&'static Spec> {
    INDICATORS.iter().find(|s| s.name == name)
}

/// Comma-separated names of every indicator, for error messages.
pub fn names() -> String {
    INDICATORS
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The data an indicator may read; slices are all as long as the series (or all empty).
pub struct Inputs<'a> {
    /// The `input` series (default the close), for indicators that read one series.
    pub series: &'a [f64],
    /// High of each bar.
    pub high: &'a [f64],
    /// Low of each bar.
    pub low: &'a [f64],
    /// Close of each bar.
    pub close: &'a [f64],
    /// Volume of each bar; `NaN` where the source has none.
    pub volume: &'a [f64],
    /// True on each bar that opens a new trading session (for session-anchored indicators).
    pub new_session: &'a [bool],
}

/// Computes indicator `spec` with `args` (in [`Spec::args`] order), one vector per output.
pub fn compute(spec: &Spec, args: &[f64], x: &Inputs) -> Result<Vec<Vec<f64>>, IndicatorError> {
    let p = |i: usize| args[i] as usize;
    let (h, l, c) = (x.high, x.low, x.close);
    let bands = |b: ind::Bands| vec![b.upper, b.middle, b.lower];
    Ok(match spec.name {
        "sma" => vec![ind::sma(x.series, p(0))?],
        "ema" => vec![ind::ema(x.series, p(0))?],
        "wma" => vec![ind::wma(x.series, p(0))?],
        "dema" => vec![ind::dema(x.series, p(0))?],
        "tema" => vec![ind::tema(x.series, p(0))?],
        "kama" => vec![ind::kama(x.series, p(0))?],
        "rsi" => vec![ind::rsi(x.series, p(0))?],
        "roc" => vec![ind::roc(x.series, p(0))?],
        "mom" => vec![ind::mom(x.series, p(0))?],
        "max" => vec![ind::max(x.series, p(0))?],
        "min" => vec![ind::min(x.series, p(0))?],
        "linearreg_slope" => vec![ind::linearreg_slope(x.series, p(0))?],
        "stddev" => vec![ind::stddev(x.series, p(0), args[1])?],
        "macd" => {
            let m = ind::macd(x.series, p(0), p(1), p(2))?;
            vec![m.macd, m.signal, m.hist]
        }
        "bbands" => bands(ind::bbands(x.series, p(0), args[1], args[1], MaType::Sma)?),
        "atr" => vec![ind::atr(h, l, c, p(0))?],
        "natr" => vec![ind::natr(h, l, c, p(0))?],
        "adx" => vec![ind::adx(h, l, c, p(0))?],
        "plus_di" => vec![ind::plus_di(h, l, c, p(0))?],
        "minus_di" => vec![ind::minus_di(h, l, c, p(0))?],
        "cci" => vec![ind::cci(h, l, c, p(0))?],
        "willr" => vec![ind::willr(h, l, c, p(0))?],
        "keltner" => bands(ind::keltner(h, l, c, p(0), p(1), args[2])?),
        "vwap" => vec![ind::vwap(h, l, c, x.volume, x.new_session)?],
        "opening_range" => opening_range(h, l, x.new_session, p(0))?,
        other => unreachable!("indicator `{other}` is in the catalog but not computed"),
    })
}

/// High and low of the first `bars` bars of each session, known from the session's
/// `bars`-th bar on (NaN before it, so nothing is used before it exists).
fn opening_range(
    high: &[f64],
    low: &[f64],
    new_session: &[bool],
    bars: usize,
) -> Result<Vec<Vec<f64>>, IndicatorError> {
    if bars == 0 {
        return Err(IndicatorError::PeriodOutOfRange {
            name: "period",
            value: 0,
            min: 1,
            max: 100_000,
        });
    }
    let (mut hi, mut lo) = (vec![f64::NAN; high.len()], vec![f64::NAN; high.len()]);
    let (mut count, mut run_hi, mut run_lo) = (0usize, f64::NAN, f64::NAN);
    for i in 0..high.len() {
        if new_session[i] {
            (count, run_hi, run_lo) = (0, f64::NEG_INFINITY, f64::INFINITY);
        }
        if count < bars {
            run_hi = run_hi.max(high[i]);
            run_lo = run_lo.min(low[i]);
            count += 1;
        }
        if count == bars {
            (hi[i], lo[i]) = (run_hi, run_lo);
        }
    }
    Ok(vec![hi, lo])
}
