//! The HTTP client for QuantConnect's REST API v2: every call is a POST with fresh
//! authentication headers and a timeout; non-2xx answers become errors that quote the body.
//! Calls that only read are retried after a 429 or a 5xx, a few times, waiting what
//! `Retry-After` asks (seconds or an HTTP date, within [`MAX_RETRY_AFTER`]) or a doubling
//! backoff; calls that write are never retried, since QuantConnect may have done them. An
//! error answer that asks for a wait says how long.
//!
//! A 200 answer with `"success": false` is *not* an error here: QuantConnect reports bad ids and
//! failed compiles that way, and its own MCP server hands them to the model as data.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDateTime, Utc};

use reqwest::multipart::Form;
use reqwest::RequestBuilder;
use serde_json::Value;

use super::auth::{Credentials, API_TOKEN_VAR, USER_ID_VAR};

/// Where the API lives unless `QUANTCONNECT_API_BASE_URL` says otherwise (a mock, a proxy).
pub const DEFAULT_BASE_URL: &str = "https://www.quantconnect.com/api/v2";
/// Overrides [`DEFAULT_BASE_URL`], e.g. with a mock server's address.
pub const BASE_URL_VAR: &str = "QUANTCONNECT_API_BASE_URL";
/// Tags the edits settle makes in the web IDE (`codeSourceId`), as QuantConnect's server does.
pub const AGENT_NAME_VAR: &str = "AGENT_NAME";
/// QuantConnect's server waits 30 s for an answer; so does settle, unless
/// `QUANTCONNECT_API_TIMEOUT` (seconds, the variable QuantConnect's newer server reads) says
/// otherwise.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Overrides [`TIMEOUT`]: seconds, a positive number.
pub const TIMEOUT_VAR: &str = "QUANTCONNECT_API_TIMEOUT";
/// Retries of a read after a 429 or 5xx.
const RETRIES: u32 = 3;
/// The first backoff when the answer gives no `Retry-After`; doubled each time.
const BACKOFF: Duration = Duration::from_millis(250);
/// The longest `Retry-After` settle waits out; a longer one is reported instead.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(20);
/// How much of an error body a tool error quotes.
const BODY_EXCERPT: usize = 500;

/// What the client needs from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The API root without a trailing `/`, e.g. [`DEFAULT_BASE_URL`].
    pub base_url: String,
    /// The user id and API token; `None` when either variable is unset or blank.
    pub credentials: Option<Credentials>,
    /// Sent as `codeSourceId` with edits (`AGENT_NAME`, default `settle`).
    pub agent_name: String,
    /// How long one request may take (`QUANTCONNECT_API_TIMEOUT`, default [`TIMEOUT`]).
    pub timeout: Duration,
}

impl Config {
    /// From the process environment (read once, when the server starts).
    pub fn from_env() -> Config {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// The config from `lookup` (a variable name to its value): blank values count as unset, a
    /// timeout that is not a positive number falls back to [`TIMEOUT`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Config {
        let set = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Config {
            base_url: set(BASE_URL_VAR)
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
            credentials: Credentials::from_lookup(&lookup),
            agent_name: set(AGENT_NAME_VAR).unwrap_or_else(|| "settle".to_string()),
            timeout: set(TIMEOUT_VAR)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s > 0.0)
                .map_or(TIMEOUT, Duration::from_secs_f64),
        }
    }
}

/// Why a call brought back no API answer.
#[derive(Debug)]
pub enum CallError {
    /// No QuantConnect credentials are set, so no call was made.
    NoCredentials,
    /// QuantConnect (or whatever is at the base URL) answered outside 2xx; `retry_after`: the
    /// wait its `Retry-After` asked for.
    Status {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The body of the answer, as received.
        body: String,
        /// How long `Retry-After` asked to wait, when the answer had one.
        retry_after: Option<Duration>,
    },
    /// A redirect with no `Location` to follow (the authorization page that is not there).
    NoLocation {
        /// The URL called.
        url: String,
        /// The HTTP status of the redirect.
        status: u16,
    },
    /// No answer: DNS, connection, TLS, timeout. `sent`: the request may have reached
    /// QuantConnect (a timeout after connecting), so what it did is unknown.
    Transport {
        /// The URL called.
        url: String,
        /// What failed, as the HTTP client said it.
        reason: String,
        /// True when the request may have reached QuantConnect, so what it did is unknown.
        sent: bool,
    },
    /// A 2xx answer whose body is not JSON.
    NotJson {
        /// The URL called.
        url: String,
        /// The body of the answer, as received.
        body: String,
    },
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::NoCredentials => write!(
                f,
                "QuantConnect credentials are not set: set {USER_ID_VAR} (your numeric user id) \
                 and {API_TOKEN_VAR} (from quantconnect.com/account) in the environment of \
                 settle's MCP server, then restart it. Optional: {BASE_URL_VAR} (default \
                 {DEFAULT_BASE_URL}) and {AGENT_NAME_VAR}."
            ),
            CallError::Status {
                url,
                status,
                body,
                retry_after,
            } => {
                write!(f, "QuantConnect answered HTTP {status} to POST {url}")?;
                if *status == 401 {
                    write!(
                        f,
                        " (check {USER_ID_VAR}, {API_TOKEN_VAR} and this machine's clock)"
                    )?;
                }
                write!(f, ": {}", excerpt(body))?;
                match retry_after {
                    Some(wait) if *wait > MAX_RETRY_AFTER => write!(
                        f,
                        ". QuantConnect asks to wait {} s before trying again (Retry-After), \
                         longer than settle waits on its own ({} s): call again after that",
                        wait.as_secs_f64().ceil(),
                        MAX_RETRY_AFTER.as_secs()
                    ),
                    Some(wait) => write!(
                        f,
                        ". QuantConnect asks to wait {} s before trying again (Retry-After)",
                        wait.as_secs_f64().ceil()
                    ),
                    None => Ok(()),
                }
            }
            CallError::NoLocation { url, status } => write!(
                f,
                "QuantConnect answered HTTP {status} to POST {url}, a redirect with no Location \
                 header: there is no authorization page to open, so nothing was authorized. \
                 Call again later, or connect the brokerage in QuantConnect's web IDE"
            ),
            CallError::Transport {
                url,
                reason,
                sent: false,
            } => write!(f, "could not reach QuantConnect at {url}: {reason}"),
            CallError::Transport {
                url,
                reason,
                sent: true,
            } => write!(
                f,
                "QuantConnect did not answer POST {url}: {reason}. The request was sent, so \
                 whether QuantConnect carried it out is unknown"
            ),
            CallError::NotJson { url, body } => write!(
                f,
                "QuantConnect's answer to POST {url} is not JSON: {}",
                excerpt(body)
            ),
        }
    }
}

fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "(empty body)".into();
    }
    match body.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}

/// An authenticated client for one base URL.
pub struct Client {
    http: reqwest::Client,
    config: Config,
}

impl Client {
    /// A client for `config`; it does not follow redirects (the authorization flow sends the user
    /// to one).
    pub fn new(config: Config) -> Client {
        let http = reqwest::Client::builder()
            .user_agent(concat!("settle/", env!("CARGO_PKG_VERSION")))
            // The authorization flow answers with a redirect the user must follow, not us.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest builds a client with rustls and no custom roots");
        Client { http, config }
    }

    /// The name sent as `codeSourceId` with edits.
    pub fn agent_name(&self) -> &str {
        &self.config.agent_name
    }

    /// The timeout of one request.
    pub fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// POSTs `body` as JSON and reads the JSON answer; `retry`: the call only reads, so a 429
    /// or 5xx is tried again.
    pub async fn post_json(
        &self,
        endpoint: &str,
        body: &Value,
        timeout: Duration,
        retry: bool,
    ) -> Result<Value, CallError> {
        let mut attempt = 0;
        loop {
            let (url, request) = self.request(endpoint)?;
            let response = request.json(body).timeout(timeout).send().await;
            let wait = match &response {
                Ok(r) if retry && attempt < RETRIES && retryable(r.status().as_u16()) => {
                    retry_after(r).unwrap_or(BACKOFF * 2u32.pow(attempt))
                }
                _ => return read(url, response).await,
            };
            if wait > MAX_RETRY_AFTER {
                return read(url, response).await;
            }
            tracing::debug!(endpoint, attempt, ?wait, "QuantConnect asked to retry");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// POSTs a multipart form (the Object Store upload) and reads the JSON answer.
    pub async fn post_form(&self, endpoint: &str, form: Form) -> Result<Value, CallError> {
        let (url, request) = self.request(endpoint)?;
        let response = request
            .multipart(form)
            .timeout(self.config.timeout)
            .send()
            .await;
        read(url, response).await
    }

    /// POSTs `body` and returns the `Location` a 3xx answer redirects to (the brokerage
    /// authorization page); none for a 2xx; an error for a redirect without a `Location` and
    /// for any other status.
    pub async fn redirect_location(
        &self,
        endpoint: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<Option<String>, CallError> {
        let (url, request) = self.request(endpoint)?;
        let response = request
            .json(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| transport(&url, &e))?;
        let status = response.status();
        if status.is_redirection() {
            return response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.trim().is_empty())
                .map(|v| Some(v.to_string()))
                .ok_or(CallError::NoLocation {
                    url,
                    status: status.as_u16(),
                });
        }
        if status.is_success() {
            return Ok(None);
        }
        let retry_after = retry_after(&response);
        let body = response.text().await.unwrap_or_default();
        Err(CallError::Status {
            url,
            status: status.as_u16(),
            body,
            retry_after,
        })
    }

    /// The URL and an authenticated POST to it.
    fn request(&self, endpoint: &str) -> Result<(String, RequestBuilder), CallError> {
        let credentials = self
            .config
            .credentials
            .as_ref()
            .ok_or(CallError::NoCredentials)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let auth = credentials.headers(now);
        let url = format!("{}{endpoint}", self.config.base_url);
        let request = self
            .http
            .post(&url)
            .header(reqwest::header::AUTHORIZATION, auth.authorization)
            .header("Timestamp", auth.timestamp);
        Ok((url, request))
    }
}

async fn read(
    url: String,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<Value, CallError> {
    let response = response.map_err(|e| transport(&url, &e))?;
    let status = response.status();
    let retry_after = retry_after(&response);
    let body = response.text().await.map_err(|e| transport(&url, &e))?;
    if !status.is_success() {
        return Err(CallError::Status {
            url,
            status: status.as_u16(),
            body,
            retry_after,
        });
    }
    serde_json::from_str(&body).map_err(|_| CallError::NotJson { url, body })
}

/// Statuses worth asking again: too many requests, and the server's own failures.
fn retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// The wait an answer's `Retry-After` asks for, from now.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    wait_asked(value.to_str().ok()?, SystemTime::now())
}

/// A `Retry-After` value as a wait from `now` (RFC 9110 §10.2.3): seconds, or an HTTP date
/// (a date already past is no wait); none when it is neither.
fn wait_asked(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = http_date(value)?;
    let now: DateTime<Utc> = now.into();
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// An HTTP date (RFC 9110 §5.6.7) in any of its three forms: `Sun, 06 Nov 1994 08:49:37 GMT`
/// (an RFC 2822 date), and the obsolete `Sunday, 06-Nov-94 08:49:37 GMT` and
/// `Sun Nov  6 08:49:37 1994`.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

fn transport(url: &str, e: &reqwest::Error) -> CallError {
    // reqwest's Display stops at the outermost cause ("error sending request"); the chain
    // says why (connection refused, timed out, certificate).
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        reason.push_str(" (timed out)");
    }
    CallError::Transport {
        url: url.to_string(),
        reason,
        // A refused or failed connection never reached QuantConnect; anything later may have.
        sent: !e.is_connect() && !e.is_builder(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_and_overrides_from_the_environment() {
        let c = config(&[]);
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.agent_name, "settle");
        assert_eq!(c.timeout, TIMEOUT);
        assert!(c.credentials.is_none());
        let c = config(&[
            (BASE_URL_VAR, "http://127.0.0.1:4010/"),
            (AGENT_NAME_VAR, "claude"),
            (USER_ID_VAR, "1"),
            (API_TOKEN_VAR, "t"),
            (TIMEOUT_VAR, "2.5"),
        ]);
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.base_url, "http://127.0.0.1:4010");
        assert_eq!(c.agent_name, "claude");
        assert!(c.credentials.is_some());
    }

    #[test]
    fn errors_say_what_to_do() {
        let no = CallError::NoCredentials.to_string();
        assert!(
            no.contains(USER_ID_VAR) && no.contains(API_TOKEN_VAR),
            "{no}"
        );
        let unauthorized = CallError::Status {
            url: "u".into(),
            status: 401,
            body: "x".repeat(2000),
            retry_after: None,
        }
        .to_string();
        assert!(unauthorized.contains("HTTP 401") && unauthorized.contains("clock"));
        assert!(
            unauthorized.len() < 800,
            "the body is cut: {}",
            unauthorized.len()
        );
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480.
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480 - 90);
        let wait = |v: &str| wait_asked(v, now);
        assert_eq!(wait("120"), Some(Duration::from_secs(120)));
        assert_eq!(wait(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(wait("-3"), None);
        assert_eq!(
            wait("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            wait("Wednesday, 21-Oct-15 07:28:00 GMT"),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            wait("Wed Oct 21 07:28:00 2015"),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            wait("Wed, 21 Oct 2015 07:00:00 GMT"),
            Some(Duration::ZERO),
            "a date already past asks no wait"
        );
        assert_eq!(wait("soon"), None);
        let e = CallError::Status {
            url: "u".into(),
            status: 429,
            body: String::new(),
            retry_after: Some(Duration::from_secs(600)),
        }
        .to_string();
        assert!(
            e.contains("asks to wait 600 s before trying again") && e.contains("(20 s)"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn without_credentials_no_request_is_made() {
        // Port 9 (discard) on loopback: were a request attempted it would fail as transport.
        let client = Client::new(config(&[(BASE_URL_VAR, "http://127.0.0.1:9")]));
        let err = client
            .post_json("/projects/read", &Value::Null, TIMEOUT, true)
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::NoCredentials), "{err}");
    }
}
