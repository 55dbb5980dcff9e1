//! One error type for the data layer. Every variant that comes from user input names
//! where (file, line, field) and what was expected, so a person can fix the input.

use std::path::PathBuf;

/// Result alias for the data layer.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Errors raised while reading, validating or storing market data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A value in an input file could not be used.
    #[error("{file}:{line}: field `{field}`: {problem}")]
    Parse {
        /// File name as shown to the user.
        file: String,
        /// 1-based line of the file (0 when the reader could not tell).
        line: u64,
        /// Column name the value was read from.
        field: String,
        /// What was wrong and what was expected.
        problem: String,
    },
    /// A record of a binary file (DBN) could not be used; `offset` is where the record starts.
    #[error("{file}: byte {offset}{stream}: field `{field}`: {problem}")]
    Binary {
        /// File name as shown to the user.
        file: String,
        /// Byte offset of the record's first byte.
        offset: u64,
        /// Empty, or says the offset counts decompressed bytes.
        stream: &'static str,
        /// Record field that could not be used.
        field: String,
        /// What was wrong and what was expected.
        problem: String,
    },
    /// A required column is absent from a file's header.
    #[error("{file}: missing column `{column}` (found: {found})")]
    MissingColumn {
        /// File name as shown to the user.
        file: String,
        /// The column that was expected.
        column: String,
        /// The columns the header does have, comma-separated.
        found: String,
    },
    /// A root symbol that is not in the contract-spec catalog, with the nearest roots.
    #[error("unknown symbol `{asked}`: did you mean {near}? (the symbol list has every root)")]
    UnknownSymbol {
        /// The symbol as given.
        asked: String,
        /// The closest catalog roots, as a readable list.
        near: String,
    },
    /// Input that is well-formed but cannot be used as asked.
    #[error("{0}")]
    Invalid(String),
    /// The requested series is not in the store.
    #[error("no data for {0}: import it first (`settle data import`) or run `settle data list`")]
    NotFound(String),
    /// A file or directory could not be read or written. The cause is part of the message
    /// (not a chained source), so it is said once however the error is printed.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// The store's catalog or one of its files could not be read, decoded or written.
    #[error("store: {0}")]
    Store(String),
}

impl DataError {
    /// Shorthand for a [`DataError::Parse`].
    pub fn parse(
        file: impl Into<String>,
        line: u64,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        DataError::Parse {
            file: file.into(),
            line,
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// Wraps an I/O error with the path it concerned.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            error,
        }
    }
}
