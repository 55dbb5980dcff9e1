//! `authorize_connection` from the chat.
//!
//! QuantConnect's server posts `/live/auth0/authorize`, opens the `Location` it redirects to
//! in a browser, and blocks up to 800 s on `/live/auth0/read` until the user has allowed
//! access. A server behind an MCP client has no browser to open and its user reads only tool
//! results, so settle splits the flow in two calls:
//!
//! 1. the first call posts the authorize step (QuantConnect's 300 s timeout; any status but
//!    a redirect with a `Location` or a 2xx is an error, so a 401 stops here), starts the 800 s
//!    wait for `/live/auth0/read` in the background and answers the authorization URL with
//!    what to do (after a 2xx, which names no page, it waits for the read at once, as
//!    QuantConnect's server does);
//! 2. a later call with the same model answers the wait's result when it has come (waiting up
//!    to [`WAIT`] for it), or that it is still pending, with the URL again.
//!
//! A result is handed out once. One nobody collected within [`KEPT`] of its coming (an
//! authorization, or the read's failure after its 800 s) is dropped, and the next call starts
//! a new authorization rather than answer an old one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::watch;

use super::client::Client;

/// QuantConnect's server gives the authorize step this long.
const AUTHORIZE_STEP: Duration = Duration::from_secs(300);
/// And waits this long for the user to allow access.
const READ_STEP: Duration = Duration::from_secs(800);
/// How long one call waits for the result before answering "still pending" (below the
/// request timeouts of MCP clients).
pub const WAIT: Duration = Duration::from_secs(45);
/// How long a result nobody has collected is kept.
const KEPT: Duration = Duration::from_secs(300);

/// The result of a wait, once it has come.
type Outcome = Option<Finished>;

/// QuantConnect's answer to the read step, or why there is none, and when it came.
#[derive(Clone)]
struct Finished {
    at: Instant,
    result: Result<Value, String>,
}

/// An authorization under way.
struct Pending {
    url: Option<String>,
    outcome: watch::Receiver<Outcome>,
}

/// The authorizations under way, by request (brokerage and options).
#[derive(Default)]
pub struct Authorizations {
    pending: Mutex<HashMap<String, Arc<Pending>>>,
}

/// What one call of `authorize_connection` answers.
pub enum Step {
    /// QuantConnect's answer to `/live/auth0/read`: the authorization is done.
    Done(Value),
    /// Still waiting for the user; the answer to show, with its note.
    Waiting(Value, String),
}

impl Authorizations {
    /// Starts the authorization of `body`, or carries on with the one under way.
    pub async fn step(&self, client: &Arc<Client>, body: &Value) -> Result<Step, String> {
        let key = body.to_string();
        let existing = self.current(&key, Instant::now());
        let (pending, started) = match existing {
            Some(p) => (p, false),
            None => (self.start(client, body, &key).await?, true),
        };
        if started && pending.url.is_some() {
            return Ok(waiting(&pending, true));
        }
        let mut outcome = pending.outcome.clone();
        let done = tokio::time::timeout(WAIT, outcome.wait_for(Option::is_some)).await;
        match done {
            Ok(Ok(finished)) => {
                let result = finished
                    .as_ref()
                    .map_or_else(|| Err("no outcome".into()), |f| f.result.clone());
                self.lock().remove(&key);
                result.map(Step::Done).map_err(|e| {
                    format!(
                        "{e}. The authorization was not completed; call authorize_connection \
                         again to start a new one."
                    )
                })
            }
            Ok(Err(_)) => {
                self.lock().remove(&key);
                Err("the wait for QuantConnect's authorization stopped".into())
            }
            Err(_) => Ok(waiting(&pending, false)),
        }
    }

    async fn start(
        &self,
        client: &Arc<Client>,
        body: &Value,
        key: &str,
    ) -> Result<Arc<Pending>, String> {
        let url = client
            .redirect_location("/live/auth0/authorize", body, AUTHORIZE_STEP)
            .await
            .map_err(|e| e.to_string())?;
        let (send, outcome) = watch::channel(None);
        let (client, body) = (Arc::clone(client), body.clone());
        tokio::spawn(async move {
            let answer = client
                .post_json("/live/auth0/read", &body, READ_STEP, false)
                .await
                .map_err(|e| e.to_string());
            let _ = send.send(Some(Finished {
                at: Instant::now(),
                result: answer,
            }));
        });
        let pending = Arc::new(Pending { url, outcome });
        self.lock().insert(key.to_string(), Arc::clone(&pending));
        Ok(pending)
    }

    /// The authorization of `key` under way. Results that came more than [`KEPT`] before
    /// `now` are dropped first, this key's and any other's.
    fn current(&self, key: &str, now: Instant) -> Option<Arc<Pending>> {
        let mut pending = self.lock();
        pending.retain(|_, p| {
            p.outcome
                .borrow()
                .as_ref()
                .is_none_or(|f| now.saturating_duration_since(f.at) <= KEPT)
        });
        pending.get(key).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Pending>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn waiting(pending: &Pending, first: bool) -> Step {
    let answer = json!({"authorized": false, "authorizationUrl": pending.url});
    let open = match &pending.url {
        Some(url) => format!(
            "Open {url} in a browser where you are logged in to QuantConnect and allow access; "
        ),
        None => "QuantConnect gave no authorization page; ".to_string(),
    };
    let then = if first {
        "then call authorize_connection again with the same model to collect the result"
    } else {
        "not authorized yet: call authorize_connection again with the same model once access is allowed"
    };
    Step::Waiting(
        answer,
        format!(
            "{open}{then} (settle waits up to {} s for QuantConnect's confirmation).",
            READ_STEP.as_secs()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantconnect::client::Config;

    /// An authorization of `body` whose read step ended `ago` with `result`.
    fn finished(auth: &Authorizations, body: &Value, ago: Duration, result: Result<Value, String>) {
        let at = Instant::now()
            .checked_sub(ago)
            .expect("a process older than the test");
        let (_send, outcome) = watch::channel(Some(Finished { at, result }));
        let pending = Arc::new(Pending {
            url: Some("https://example.com/authorize".into()),
            outcome,
        });
        auth.lock().insert(body.to_string(), pending);
    }

    /// No credentials: starting a new authorization fails at once, with no request made.
    fn offline() -> Arc<Client> {
        Arc::new(Client::new(Config::from_lookup(|_| None)))
    }

    #[tokio::test]
    async fn a_result_is_handed_out_once_and_only_while_fresh() {
        let body = json!({"brokerage": "tradestation"});
        let auth = Authorizations::default();
        let token = json!({"success": true, "authorization": {"token": "t"}});
        finished(&auth, &body, Duration::from_secs(10), Ok(token.clone()));
        match auth.step(&offline(), &body).await {
            Ok(Step::Done(answer)) => assert_eq!(answer, token),
            _ => panic!("a fresh result is answered"),
        }
        // Collected: the next call starts anew (here: no credentials to start with).
        let e = auth.step(&offline(), &body).await.err().unwrap();
        assert!(e.contains("QUANTCONNECT_USER_ID"), "{e}");

        // Not collected for longer than KEPT: dropped, not answered as if fresh.
        finished(&auth, &body, KEPT + Duration::from_secs(1), Ok(token));
        let e = auth.step(&offline(), &body).await.err().unwrap();
        assert!(e.contains("QUANTCONNECT_USER_ID"), "{e}");
        finished(
            &auth,
            &body,
            Duration::from_secs(900),
            Err("timed out".into()),
        );
        let e = auth.step(&offline(), &body).await.err().unwrap();
        assert!(e.contains("QUANTCONNECT_USER_ID"), "{e}");

        // A fresh failure of the read step says the authorization was not completed.
        finished(&auth, &body, Duration::ZERO, Err("HTTP 500".into()));
        let e = auth.step(&offline(), &body).await.err().unwrap();
        assert!(
            e.contains("HTTP 500") && e.contains("start a new one"),
            "{e}"
        );
        assert!(auth.lock().is_empty());
    }
}
