//! `create_session`, `list_sessions`, `get_session`.

use crate::args::Args;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SettleServer;
use crate::model::SessionRecord;
use crate::reply::{fix, input_schema, output_schema, reply, ToolResult};

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionArgs {
    /// Short title for the workspace, e.g. "ES opening-range ideas".
    pub title: Option<String>,
}

#[allow(missing_docs)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    #[default]
    Active,
    Archived,
    All,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSessionsArgs {
    /// Which sessions to list (default `active`).
    #[serde(default)]
    pub status: StatusFilter,
    /// Page size, 1 to 100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// Opaque `next_cursor` from the previous page; omit for the first page.
    pub cursor: Option<String>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionIdArgs {
    pub session_id: String,
}

/// Where a page of a list stands.
#[derive(Debug, Serialize)]
pub struct Pagination {
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// True when another page follows.
    pub has_more: bool,
}

/// One page of sessions, oldest first.
#[derive(Debug, Serialize)]
pub struct SessionList {
    /// The sessions of this page.
    pub sessions: Vec<SessionRecord>,
    /// The cursor to the next page, if any.
    pub pagination: Pagination,
}

/// One session and how many strategy versions it holds.
#[derive(Debug, Serialize)]
pub struct SessionDetail {
    /// The session's record.
    #[serde(flatten)]
    pub session: SessionRecord,
    /// Number of strategy versions in the session.
    pub strategy_count: u64,
}

#[tool_router(router = session_tools, vis = "pub(super)")]
impl SettleServer {
    /// `create_session`: a new workspace. The client reads the `description` of the attribute
    /// below.
    #[tool(
        description = "Create a session: the workspace that owns strategies, versions, backtests and sweeps. Returns session_id.",
        input_schema = input_schema::<CreateSessionArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn create_session(
        &self,
        Args(args): Args<CreateSessionArgs>,
    ) -> ToolResult<SessionRecord> {
        let title = args.title.unwrap_or_default();
        let title = if title.trim().is_empty() {
            "Untitled session".to_string()
        } else {
            title.trim().to_string()
        };
        let s = self.store().create_session(&title)?;
        reply(
            format!("Created session {} \"{}\".", s.session_id, s.title),
            s,
        )
    }

    /// `list_sessions`: the sessions, paged. The client reads the `description` of the attribute
    /// below.
    #[tool(
        description = "List sessions, oldest first, paged with an opaque cursor.",
        input_schema = input_schema::<ListSessionsArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_sessions(
        &self,
        Args(args): Args<ListSessionsArgs>,
    ) -> ToolResult<SessionList> {
        let limit = args.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(fix(format!("limit must be between 1 and 100, got {limit}")));
        }
        let after = match args.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                fix("cursor is not one this server issued: omit it to start from the first page")
            })?),
            None => None,
        };
        let status = match args.status {
            StatusFilter::Active => Some("active"),
            StatusFilter::Archived => Some("archived"),
            StatusFilter::All => None,
        };
        // One extra row tells whether another page exists.
        let mut sessions = self.store().list_sessions(
            status,
            after.as_ref().map(|(t, i)| (t.as_str(), i.as_str())),
            limit as usize + 1,
        )?;
        let has_more = sessions.len() > limit as usize;
        sessions.truncate(limit as usize);
        let next_cursor = has_more
            .then(|| {
                sessions
                    .last()
                    .map(|s| encode_cursor(&s.created_at, &s.session_id))
            })
            .flatten();
        let summary = format!(
            "{} session(s){}.",
            sessions.len(),
            if has_more {
                "; more with next_cursor"
            } else {
                ""
            }
        );
        reply(
            summary,
            SessionList {
                sessions,
                pagination: Pagination {
                    next_cursor,
                    has_more,
                },
            },
        )
    }

    /// `get_session`: one session by id. The client reads the `description` of the attribute below.
    #[tool(
        description = "Fetch one session by session_id.",
        input_schema = input_schema::<SessionIdArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_session(&self, Args(args): Args<SessionIdArgs>) -> ToolResult<SessionDetail> {
        let session = self.require_session(&args.session_id)?;
        let strategy_count = self.store().list_strategies(&session.session_id)?.len() as u64;
        reply(
            format!(
                "Session {} \"{}\" ({}), {strategy_count} strategy version(s).",
                session.session_id, session.title, session.status
            ),
            SessionDetail {
                session,
                strategy_count,
            },
        )
    }
}

/// Cursor = hex of `created_at|session_id`: opaque to clients, stable across restarts.
fn encode_cursor(created_at: &str, session_id: &str) -> String {
    format!("{created_at}|{session_id}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_cursor(cursor: &str) -> Option<(String, String)> {
    if !cursor.len().is_multiple_of(2) || !cursor.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (ts, id) = text.split_once('|')?;
    Some((ts.to_string(), id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = encode_cursor("2026-01-02T03:04:05.678Z", "ses_abc");
        assert_eq!(
            decode_cursor(&c),
            Some(("2026-01-02T03:04:05.678Z".into(), "ses_abc".into()))
        );
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("abc"), None);
        assert_eq!(decode_cursor("6162"), None); // "ab": no separator
    }
}
