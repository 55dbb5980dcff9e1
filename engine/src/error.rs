//! The engine's one error type. Every variant that comes from user input names the field
//! (as spelled in the JSON config or the [`crate::Signals`] struct) so a person can fix it.

/// Why a backtest could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// A config or signal field holds a value the engine cannot use.
    #[error("`{field}`: {problem}")]
    Invalid { field: String, problem: String },
    /// A signal array does not have one value per bar.
    #[error("`{field}` has {got} values but the series has {want} bars; expected one per bar")]
    Length {
        field: String,
        got: usize,
        want: usize,
    },
    /// The window selects no bars of the series.
    #[error("window `{window}` selects no bars: the data runs from {first} to {last}")]
    EmptyWindow {
        window: String,
        first: String,
        last: String,
    },
    /// A window string that cannot be parsed.
    #[error("window `{0}`: expected `all`, `ytd`, `last N years|months|weeks|days`, `since YYYY[-MM-DD]`, or `YYYY-MM-DD..YYYY-MM-DD`")]
    BadWindow(String),
    /// A window whose words parse but whose dates cannot be: a day that is not in the
    /// calendar, or a range that ends before it starts.
    #[error("window `{window}`: {problem}")]
    WindowDates { window: String, problem: String },
    /// The contract spec cannot drive a simulation (e.g. an unknown time zone).
    #[error("contract spec `{root}`: {problem}")]
    Spec { root: String, problem: String },
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
