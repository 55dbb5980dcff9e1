//! Hand-computed checks for the two non-TA-Lib indicators, and the parameter/length rules every
//! indicator follows. TA-Lib parity itself lives in `tests/talib_parity.rs`.

use super::*;

fn assert_close(ours: &[f64], expected: &[f64]) {
    assert_eq!(ours.len(), expected.len(), "{ours:?} vs {expected:?}");
    for (i, (&a, &e)) in ours.iter().zip(expected).enumerate() {
        let same = (a.is_nan() && e.is_nan()) || (a - e).abs() <= 1e-12 * e.abs().max(1.0);
        assert!(same, "bar {i}: got {a}, expected {e}");
    }
}

#[test]
fn vwap_accumulates_typical_price_times_volume_and_resets_per_session() {
    let high = [10.0, 12.0, 6.0, 7.0, 5.0];
    let low = [8.0, 9.0, 3.0, 4.0, 5.0];
    let close = [9.0, 12.0, 3.0, 7.0, 5.0];
    let volume = [100.0, 300.0, 50.0, 0.0, 0.0];
    let sessions = session_starts(&["mon", "mon", "tue", "tue", "wed"]);
    assert_eq!(sessions, [true, false, true, false, true]);
    let v = vwap(&high, &low, &close, &volume, &sessions).unwrap();
    // Typical prices 9, 11, 4, 6, 5. Monday: 9, then (900 + 3300) / 400. Tuesday: 4, and a
    // zero-volume bar leaves it at 4. Wednesday has traded nothing yet: NaN.
    assert_close(&v, &[9.0, 10.5, 4.0, 4.0, f64::NAN]);
}

#[test]
fn keltner_is_ema_of_typical_price_plus_minus_mult_atr() {
    let high = [10.0, 11.0, 12.0, 12.0];
    let low = [8.0, 9.0, 9.0, 10.0];
    let close = [9.0, 10.0, 11.0, 10.0];
    let k = keltner(&high, &low, &close, 2, 2, 2.0).unwrap();
    // Typical prices 9, 10, 32/3, 32/3. EMA(2), k = 2/3, seeded at bar 1 with 9.5:
    // bar 2 = 9.5 + (32/3 − 9.5)·2/3 = 185/18, bar 3 = 185/18 + (32/3 − 185/18)·2/3 = 569/54.
    // True ranges from bar 1: 2, 3, 2. ATR(2) = (2 + 3)/2 = 2.5 at bar 2, (2.5 + 2)/2 = 2.25.
    let nan = f64::NAN;
    let (m2, m3) = (185.0 / 18.0, 569.0 / 54.0);
    assert_close(&k.middle, &[nan, nan, m2, m3]);
    assert_close(&k.upper, &[nan, nan, m2 + 5.0, m3 + 4.5]);
    assert_close(&k.lower, &[nan, nan, m2 - 5.0, m3 - 4.5]);
}

#[test]
fn out_of_range_parameters_are_errors_naming_the_parameter() {
    let x = [1.0, 2.0, 3.0];
    assert_eq!(
        sma(&x, 0),
        Err(IndicatorError::PeriodOutOfRange {
            name: "period",
            value: 0,
            min: 1,
            max: 100_000
        })
    );
    assert!(rsi(&x, 1).is_err());
    assert!(sma(&x, 100_001).is_err());
    let err = macd(&x, 12, 26, 0).unwrap_err();
    assert!(err.to_string().contains("signal"), "{err}");
    let err = bbands(&x, 5, f64::INFINITY, 2.0, MaType::Sma).unwrap_err();
    assert!(err.to_string().contains("nbdevup"), "{err}");
    let err = atr(&x, &x[..2], &x, 14).unwrap_err();
    assert_eq!(
        err,
        IndicatorError::LengthMismatch {
            name: "low",
            len: 2,
            reference: "high",
            expected: 3
        }
    );
}

#[test]
fn inputs_shorter_than_the_lookback_give_all_nan_and_never_panic() {
    for len in 0..6 {
        let x: Vec<f64> = (0..len).map(|i| 10.0 + f64::from(i)).collect();
        let (h, l, c, v) = (&x[..], &x[..], &x[..], &x[..]);
        let starts = vec![false; len as usize];
        for period in [1, 2, 5, 30] {
            let all_nan = |r: Result<Vec<f64>>| {
                if let Ok(out) = r {
                    assert_eq!(out.len(), x.len());
                    if x.len() < period {
                        assert!(out.iter().all(|v| v.is_nan()), "{period}: {out:?}");
                    }
                }
            };
            for kind in [MaType::Sma, MaType::Ema, MaType::Wma, MaType::Dema] {
                all_nan(ma(&x, period, kind));
            }
            all_nan(kama(&x, period));
            all_nan(tema(&x, period));
            all_nan(rsi(&x, period));
            all_nan(atr(h, l, c, period));
            all_nan(natr(h, l, c, period));
            all_nan(adx(h, l, c, period));
            all_nan(plus_di(h, l, c, period));
            all_nan(minus_di(h, l, c, period));
            all_nan(cci(h, l, c, period));
            all_nan(willr(h, l, c, period));
            all_nan(mfi(h, l, c, v, period));
            all_nan(roc(&x, period));
            all_nan(mom(&x, period));
            all_nan(max(&x, period));
            all_nan(min(&x, period));
            all_nan(stddev(&x, period, 2.0));
            all_nan(linearreg_slope(&x, period));
            all_nan(keltner(h, l, c, period, period, 2.0).map(|k| k.upper));
            all_nan(bbands(&x, period, 2.0, 2.0, MaType::Kama).map(|b| b.lower));
            all_nan(macd(&x, period, period + 1, period).map(|m| m.hist));
            all_nan(stochrsi(&x, period, period, period, MaType::Ema).map(|s| s.fastd));
            let params = StochParams {
                fastk_period: period,
                ..StochParams::default()
            };
            all_nan(stoch(h, l, c, params).map(|s| s.slowd));
        }
        assert_eq!(trange(h, l, c).unwrap().len(), x.len());
        assert_eq!(obv(c, v).unwrap().len(), x.len());
        assert_eq!(vwap(h, l, c, v, &starts).unwrap().len(), x.len());
    }
}
