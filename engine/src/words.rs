//! Numbers in the words a trader reads: dollars to the cent with separators, and the five
//! headline metrics in one line. The CLI, the MCP answers and the HTML report say them alike.

/// The five numbers a trader reads first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headline {
    /// Closed trades, including one closed at the end of data.
    pub trade_count: u64,
    /// Sum of the trades' net P&L, dollars.
    pub total_pnl: f64,
    /// Winners ÷ trades, a fraction 0..1; none without trades.
    pub win_rate: Option<f64>,
    /// Largest fall of equity from its running peak, dollars, ≥ 0.
    pub max_drawdown: f64,
    /// Annualised Sharpe ratio of the daily returns; none with fewer than 2 days or no spread.
    pub sharpe_ratio: Option<f64>,
}

impl From<&crate::Metrics> for Headline {
    fn from(m: &crate::Metrics) -> Self {
        Headline {
            trade_count: u64::from(m.trade_count),
            total_pnl: m.total_pnl,
            win_rate: m.win_rate,
            max_drawdown: m.max_drawdown,
            sharpe_ratio: m.sharpe_ratio,
        }
    }
}

/// The headline numbers in words: `12 trades, total P&L $1,250.00, win rate 58.3%, …`.
pub fn headline(h: Headline) -> String {
    format!(
        "{} trades, total P&L {}, win rate {}, max drawdown {}, Sharpe {}",
        h.trade_count,
        dollars(h.total_pnl),
        h.win_rate
            .map_or("undefined".into(), |w| format!("{:.1}%", w * 100.0)),
        dollars(h.max_drawdown),
        h.sharpe_ratio
            .map_or("undefined".into(), |s| format!("{:.2}", s + 0.0))
    )
}

/// The snake_case name serde gives an enum value (`long`, `trailing_stop`, `entry`), as the
/// JSON results spell it; empty for a value that is not written as a string.
pub fn json_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// [`headline`] of a backtest's metrics.
pub fn metrics_text(m: &crate::Metrics) -> String {
    headline(m.into())
}

/// Dollars to the cent with thousands separators (`-$80,680.20`), never `-$0.00`: a loss
/// that rounds to nothing reads `$0.00`.
pub fn dollars(x: f64) -> String {
    let cents = (x * 100.0).round();
    if cents == 0.0 || !cents.is_finite() {
        return "$0.00".into();
    }
    let sign = if cents < 0.0 { "-" } else { "" };
    let text = format!("{:.2}", cents.abs() / 100.0);
    let (whole, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_read_as_a_trader_writes_them() {
        assert_eq!(dollars(-80680.19999999997), "-$80,680.20");
        assert_eq!(dollars(1234567.5), "$1,234,567.50");
        assert_eq!(dollars(12.5), "$12.50");
        assert_eq!(dollars(-0.004), "$0.00");
        assert_eq!(dollars(999.999), "$1,000.00");
        assert_eq!(dollars(f64::NAN), "$0.00");
    }
}
