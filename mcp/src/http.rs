//! Streamable HTTP transport. Loopback by default; binding anything else exposes a user's
//! strategies to the network, so it requires a bearer token, checked on every request.
//!
//! A browser page the trader opens can send requests to a loopback port too (DNS rebinding, or
//! a plain cross-origin `fetch`), so every request carrying an `Origin` header must name a
//! loopback origin or one the user allowed (`--allow-origin`); any other gets 403. Clients
//! that are not browsers send no `Origin` and are unaffected. `Host` must be loopback (or the bound
//! address), which rmcp checks.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::tools::SettleServer;

/// Refuses a non-loopback address without a token (checked before anything binds).
pub fn check_exposure(addr: SocketAddr, bearer_token: Option<&str>) -> anyhow::Result<()> {
    let has_token = bearer_token.is_some_and(|t| !t.trim().is_empty());
    if !addr.ip().is_loopback() && !has_token {
        anyhow::bail!(
            "refusing to serve on non-loopback address {addr} without a bearer token: \
             pass a token, or bind 127.0.0.1"
        );
    }
    Ok(())
}

/// Pages served from the trader's own machine (the MCP Inspector's UI, say): a DNS-rebinding
/// page has a foreign origin, never one of these, and the conformance suite requires that
/// localhost origins are served.
const LOOPBACK_ORIGINS: [&str; 3] = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

/// How `settle serve --http` listens.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The address to bind.
    pub addr: SocketAddr,
    /// Bearer token required on every request (mandatory off loopback).
    pub bearer_token: Option<String>,
    /// Browser origins allowed to call the server, e.g. `http://localhost:6274`; requests
    /// carrying any other `Origin` are refused with 403.
    pub allowed_origins: Vec<String>,
}

/// Checks that each allowed origin is `null` or `http(s)://host[:port|:*]`, the forms rmcp
/// matches, so a typo fails at start instead of silently refusing every browser.
pub fn check_origins(origins: &[String]) -> anyhow::Result<()> {
    for origin in origins {
        let rest = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        let ok = origin == "null"
            || rest.is_some_and(|r| !r.is_empty() && !r.contains('/') && !r.contains('?'));
        if !ok {
            anyhow::bail!(
                "--allow-origin {origin:?}: expected an origin such as http://localhost:6274, \
                 https://app.example.com or http://localhost:* (scheme, host, optional port; no path)"
            );
        }
    }
    Ok(())
}

/// The axum app: the MCP endpoint at `/mcp`, behind the bearer check when a token is set.
pub fn router(handler: SettleServer, options: &HttpOptions) -> axum::Router {
    let addr = options.addr;
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_origins(
            LOOPBACK_ORIGINS
                .iter()
                .map(|o| o.to_string())
                .chain(options.allowed_origins.iter().cloned()),
        )
        .enforce_origin_validation();
    if !addr.ip().is_loopback() {
        // rmcp rejects non-loopback Host headers (DNS-rebinding protection); the bound
        // address is a host clients legitimately use.
        config.allowed_hosts.push(addr.ip().to_string());
        config.allowed_hosts.push(addr.to_string());
    }
    let service = StreamableHttpService::new(
        move || Ok(handler.clone()),
        LocalSessionManager::default().into(),
        config,
    );
    let app = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn(screen_tool_calls));
    match options
        .bearer_token
        .clone()
        .filter(|t| !t.trim().is_empty())
    {
        Some(token) => {
            let expected: Arc<str> = format!("Bearer {}", token.trim()).into();
            app.layer(axum::middleware::from_fn(
                move |req: Request, next: Next| {
                    let expected = expected.clone();
                    async move { require_bearer(&expected, req, next).await }
                },
            ))
        }
        None => app,
    }
}

/// Largest request body read whole to be screened (a tool call is a few KB).
const MAX_BODY: usize = 16 << 20;

/// [`crate::screen`] on each POSTed message: a tool call with non-object arguments gets its
/// invalid-params answer here; everything else goes on unchanged. A request from a browser
/// (it carries `Origin`) goes straight on, so the library's origin check refuses a foreign
/// page before anything answers it.
async fn screen_tool_calls(req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST || req.headers().contains_key(header::ORIGIN) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body over 16 MB").into_response();
    };
    let answer = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|m| crate::screen::invalid_tool_call(&m));
    match answer {
        Some(error) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            error.to_string(),
        )
            .into_response(),
        None => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
    }
}

async fn require_bearer(expected: &str, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        next.run(req).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "missing or wrong bearer token",
        )
            .into_response()
    }
}

/// Comparison whose time does not depend on where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Binds `addr` and serves until Ctrl-C.
pub async fn serve(handler: SettleServer, options: HttpOptions) -> anyhow::Result<()> {
    check_exposure(options.addr, options.bearer_token.as_deref())?;
    check_origins(&options.allowed_origins)?;
    let app = router(handler, &options);
    let listener = tokio::net::TcpListener::bind(options.addr).await?;
    tracing::info!(
        "settle MCP over HTTP at http://{}/mcp",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_loopback_requires_a_token() {
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(check_exposure(public, None).is_err());
        assert!(check_exposure(public, Some("  ")).is_err());
        assert!(check_exposure(public, Some("s3cret")).is_ok());
        assert!(check_exposure(local, None).is_ok());
    }

    #[test]
    fn origins_must_be_scheme_host_port() {
        let ok = |o: &str| check_origins(&[o.to_string()]).is_ok();
        assert!(ok("http://localhost:6274"));
        assert!(ok("https://app.example.com"));
        assert!(ok("http://127.0.0.1:*"));
        assert!(ok("null"));
        assert!(!ok("localhost:6274"));
        assert!(!ok("http://"));
        assert!(!ok("http://localhost:6274/mcp"));
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"Bearer x", b"Bearer x"));
        assert!(!constant_time_eq(b"Bearer x", b"Bearer y"));
        assert!(!constant_time_eq(b"Bearer", b"Bearer x"));
    }
}
