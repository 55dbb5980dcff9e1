//! The engine's one error type. Every variant that comes from user input names the field
//! (as spelled in the JSON config or the [`crate::Signals`] struct) so a person can fix it.

/// Why a backtest could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// A config or signal field holds a value the engine cannot use.
    #[error("`{field}`: {problem}")]
    Invalid {
        /// The field as spelled in the JSON config or [`crate::Signals`], e.g. `stopLoss`.
        field: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// A signal array does not have one value per bar.
    #[error("`{field}` has {got} values but the series has {want} bars; expected one per bar")]
    Length {
        /// The signal field, e.g. `long_entry`.
        field: String,
        /// Values it holds.
        got: usize,
        /// Bars in the series (the length expected).
        want: usize,
    },
    /// The window selects no bars of the series.
    #[error("window `{window}` selects no bars: the data runs from {first} to {last}")]
    EmptyWindow {
        /// The window as given, e.g. `since 2030`.
        window: String,
        /// First trading date of the data.
        first: String,
        /// Last trading date of the data.
        last: String,
    },
    /// A window string that cannot be parsed.
    #[error("window `{0}`: expected `all`, `ytd`, `last N years|months|weeks|days`, `since YYYY[-MM-DD]`, or `YYYY-MM-DD..YYYY-MM-DD`")]
    BadWindow(String),
    /// A window whose words parse but whose dates cannot be: a day that is not in the
    /// calendar, or a range that ends before it starts.
    #[error("window `{window}`: {problem}")]
    WindowDates {
        /// The window as given.
        window: String,
        /// Which date is wrong, and why.
        problem: String,
    },
    /// The contract spec cannot drive a simulation (e.g. an unknown time zone).
    #[error("contract spec `{root}`: {problem}")]
    Spec {
        /// The spec's root symbol, e.g. `ES`.
        root: String,
        /// What the simulation cannot use, e.g. the time zone.
        problem: String,
    },
}

impl EngineError {
    /// Shorthand for [`EngineError::Invalid`].
    pub fn invalid(field: &str, problem: impl Into<String>) -> Self {
        EngineError::Invalid {
            field: field.to_string(),
            problem: problem.into(),
        }
    }
}
