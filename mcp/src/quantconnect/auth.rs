//! QuantConnect's API authentication (`nonceTokenAuth`).
//!
//! HTTP Basic auth whose user is the numeric user id and whose password is
//! `sha256_hex("{api_token}:{unix_seconds}")`, with the same seconds in a `Timestamp` header.
//! The token itself never leaves the machine, and a captured header expires: QuantConnect
//! answers 401 "timestamp is too old for hash" to a stale one, so it is made fresh per call.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The environment variables that hold the credentials.
pub const USER_ID_VAR: &str = "QUANTCONNECT_USER_ID";
/// Holds the API token.
pub const API_TOKEN_VAR: &str = "QUANTCONNECT_API_TOKEN";

/// A QuantConnect user id and API token.
#[derive(Clone)]
pub struct Credentials {
    user_id: String,
    api_token: String,
}

/// The two headers of one authenticated request.
#[derive(Debug, PartialEq, Eq)]
pub struct AuthHeaders {
    /// `Basic base64("{user_id}:{sha256_hex(token:timestamp)}")`.
    pub authorization: String,
    /// The unix seconds the hash was made with.
    pub timestamp: String,
}

impl Credentials {
    /// Credentials from a user id and an API token, as given.
    pub fn new(user_id: impl Into<String>, api_token: impl Into<String>) -> Credentials {
        Credentials {
            user_id: user_id.into(),
            api_token: api_token.into(),
        }
    }

    /// Both variables from `lookup` (the process environment in the server); `None` unless
    /// both are set and not blank.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Option<Credentials> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Some(Credentials::new(get(USER_ID_VAR)?, get(API_TOKEN_VAR)?))
    }

    /// The headers for a request made at `unix_seconds`.
    pub fn headers(&self, unix_seconds: u64) -> AuthHeaders {
        let timestamp = unix_seconds.to_string();
        let hash = Sha256::digest(format!("{}:{timestamp}", self.api_token));
        let hash_hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        let basic = STANDARD.encode(format!("{}:{hash_hex}", self.user_id));
        AuthHeaders {
            authorization: format!("Basic {basic}"),
            timestamp,
        }
    }
}

/// Never print the token (in a panic message, a log line, a `{:?}`).
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user_id", &self.user_id)
            .field("api_token", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected header was computed independently, with Python's standard library, the way
    /// QuantConnect's own server does it (`src/api_connection.py`):
    ///
    /// ```python
    /// import hashlib, base64
    /// h = hashlib.sha256(b"f4a7b3c2e1d0:1700000000").hexdigest()
    /// # 35ba32da7572f7675f5b2d2a2297a27ae2d6bc3edaf26917c89a0b33b5326374
    /// base64.b64encode(f"123456:{h}".encode()).decode()
    /// ```
    #[test]
    fn header_matches_an_independent_computation() {
        let h = Credentials::new("123456", "f4a7b3c2e1d0").headers(1_700_000_000);
        assert_eq!(
            h,
            AuthHeaders {
                authorization: "Basic MTIzNDU2OjM1YmEzMmRhNzU3MmY3Njc1ZjViMmQyYTIyOTdhMjdhZTJkNm\
                                JjM2VkYWYyNjkxN2M4OWEwYjMzYjUzMjYzNzQ="
                    .into(),
                timestamp: "1700000000".into(),
            }
        );
    }

    #[test]
    fn the_hash_changes_with_the_timestamp() {
        let c = Credentials::new("1", "t");
        assert_ne!(c.headers(1).authorization, c.headers(2).authorization);
    }

    #[test]
    fn both_variables_are_needed_and_blank_is_unset() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(Credentials::from_lookup(env(&[(USER_ID_VAR, "1")])).is_none());
        assert!(
            Credentials::from_lookup(env(&[(USER_ID_VAR, "1"), (API_TOKEN_VAR, "  ")])).is_none()
        );
        let c = Credentials::from_lookup(env(&[(USER_ID_VAR, " 7 "), (API_TOKEN_VAR, "x")]));
        assert_eq!(c.unwrap().user_id, "7");
        assert!(!format!("{:?}", Credentials::new("1", "secret")).contains("secret"));
    }
}
