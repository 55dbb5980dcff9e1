//! What the rule language can name: price fields and indicators, and how each indicator is
//! computed from [`crate::indicators`].
//!
//! Parameter ranges are not repeated here: [`compute`] is also run on empty inputs during
//! validation, so the ranges checked are exactly the indicator functions' own.

use crate::indicators::{self as ind, IndicatorError, MaType};

/// A price field of each bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Open,
    High,
    Low,
    Close,
    Volume,
    Typical,
    Hl2,
}

/// Every field name accepted by [`Field::parse`].
pub const FIELDS: &str = "open, high, low, close, volume, typical, hl2";

impl Field {
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

/// One entry of the indicator catalog.
#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    pub reads: Reads,
    /// Argument names in call order, with their default (`None` = required).
    pub args: &'static [(&'static str, Option<f64>)],
    /// Output names. With several, the first is the default unless `output_required` (bands:
    /// neither upper nor lower is an obvious default, so the rule must say which).
    pub outputs: &'static [&'static str],
    pub output_required: bool,
}

const P: &[(&str, Option<f64>)] = &[("period", None)];
const ONE: &[&str] = &["value"];
const BANDS: &[&str] = &["upper", "middle", "lower"];

const fn single(name: &'static str, reads: Reads) -> Spec {
    Spec {
        name,
        reads,
        args: P,
        outputs: ONE,
        output_required: false,
    }
}

/// ATR, also used directly for risk exits in ATR units.
pub const ATR: Spec = single("atr", Reads::Hlc);

/// Every indicator the rule language knows.
pub const INDICATORS: &[Spec] = &[
    single("sma", Reads::Series),
    single("ema", Reads::Series),
    single("wma", Reads::Series),
    single("dema", Reads::Series),
    single("tema", Reads::Series),
    single("kama", Reads::Series),
    single("rsi", Reads::Series),
    single("roc", Reads::Series),
    single("mom", Reads::Series),
    single("max", Reads::Series),
    single("min", Reads::Series),
    single("linearreg_slope", Reads::Series),
    Spec {
        name: "stddev",
        reads: Reads::Series,
        args: &[("period", None), ("nbdev", Some(1.0))],
        outputs: ONE,
        output_required: false,
    },
    Spec {
        name: "macd",
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
        reads: Reads::Series,
        args: &[("period", Some(20.0)), ("nbdev", Some(2.0))],
        outputs: BANDS,
        output_required: true,
    },
    ATR,
    single("natr", Reads::Hlc),
    single("adx", Reads::Hlc),
    single("plus_di", Reads::Hlc),
    single("minus_di", Reads::Hlc),
    single("cci", Reads::Hlc),
    single("willr", Reads::Hlc),
    Spec {
        name: "keltner",
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
        reads: Reads::Hlcv,
        args: &[],
        outputs: ONE,
        output_required: false,
    },
    Spec {
        name: "opening_range",
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
    pub series: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
    pub volume: &'a [f64],
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
