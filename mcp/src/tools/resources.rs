//! Large results as MCP resources: a backtest's trades and daily equity, a sweep's rows.
//!
//! The paging tools (`get_backtest`, `get_optimization`) return one page and the URI of the
//! whole; a client that wants everything at once (to chart it, or to attach it to a
//! conversation) reads the resource instead of paging through tool calls.
//!
//! URIs: `settle://backtests/{backtest_id}/trades`, `settle://backtests/{backtest_id}/equity`,
//! `settle://optimizations/{optimization_id}/rows`, each read as one JSON array;
//! `settle://backtests/{backtest_id}/report`, the backtest's self-contained HTML report;
//! `settle://backtests/{backtest_id}/manifest`, what the backtest was computed from (the
//! document `settle rerun` takes); `settle://optimizations/{optimization_id}/manifest`, a
//! finished sweep's summary, guards and manifest (what `settle sweep --json` prints);
//! `settle://assessments/{result_hash}`, every number behind an assessment, with its
//! manifest; `settle://quantconnect/answers/{id}`, the whole of a QuantConnect answer that was cut to
//! fit the context; and
//! `settle://rule-language`, the whole rule language (what describe_rule_language gives in
//! parts), for clients that attach documents rather than call tools.

use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use rmcp::ErrorData;

use super::SettleServer;
use crate::reply::{fix, Failure};

const JSON: &str = "application/json";
const HTML: &str = "text/html";
/// Subjects per `resources/list` page (each backtest yields four resources).
const PAGE: usize = 50;

/// One resource a URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Trades(String),
    Equity(String),
    Rows(String),
    SweepManifest(String),
    Report(String),
    Manifest(String),
    Assessment(String),
    CloudAnswer,
    Language,
}

/// URI of a backtest's full trade list.
pub fn trades_uri(backtest_id: &str) -> String {
    format!("settle://backtests/{backtest_id}/trades")
}

/// URI of a backtest's full daily equity curve.
pub fn equity_uri(backtest_id: &str) -> String {
    format!("settle://backtests/{backtest_id}/equity")
}

/// URI of a backtest's HTML report.
pub fn report_uri(backtest_id: &str) -> String {
    format!("settle://backtests/{backtest_id}/report")
}

/// URI of a backtest's manifest.
pub fn manifest_uri(backtest_id: &str) -> String {
    format!("settle://backtests/{backtest_id}/manifest")
}

/// URI of an assessment's whole evidence and manifest, named by its result hash.
pub fn assessment_uri(result_hash: &str) -> String {
    format!("settle://assessments/{result_hash}")
}

/// URI of a sweep's document with its manifest.
pub fn sweep_manifest_uri(optimization_id: &str) -> String {
    format!("settle://optimizations/{optimization_id}/manifest")
}

/// URI of every finished row of a sweep.
pub fn rows_uri(optimization_id: &str) -> String {
    format!("settle://optimizations/{optimization_id}/rows")
}

fn parse(uri: &str) -> Option<Target> {
    let rest = uri.strip_prefix("settle://")?;
    if rest == "rule-language" {
        return Some(Target::Language);
    }
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["backtests", id, "trades"] if !id.is_empty() => Some(Target::Trades(id.to_string())),
        ["backtests", id, "equity"] if !id.is_empty() => Some(Target::Equity(id.to_string())),
        ["backtests", id, "report"] if !id.is_empty() => Some(Target::Report(id.to_string())),
        ["backtests", id, "manifest"] if !id.is_empty() => Some(Target::Manifest(id.to_string())),
        ["optimizations", id, "rows"] if !id.is_empty() => Some(Target::Rows(id.to_string())),
        ["optimizations", id, "manifest"] if !id.is_empty() => {
            Some(Target::SweepManifest(id.to_string()))
        }
        // A result hash: 16 lowercase hex digits, nothing that could name another file.
        ["assessments", id]
            if id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Some(Target::Assessment(id.to_string()))
        }
        ["quantconnect", "answers", id] if !id.is_empty() => Some(Target::CloudAnswer),
        _ => None,
    }
}

fn not_found(uri: &str) -> ErrorData {
    ErrorData::resource_not_found(
        format!(
            "no resource '{uri}': URIs are settle://backtests/{{backtest_id}}/trades, \
             settle://backtests/{{backtest_id}}/equity, settle://backtests/{{backtest_id}}/report, \
             settle://backtests/{{backtest_id}}/manifest, settle://assessments/{{hash}} (an \
             assess_strategy answer's evidence_uri), \
             settle://optimizations/{{optimization_id}}/rows, \
             settle://optimizations/{{optimization_id}}/manifest, \
             settle://quantconnect/answers/{{id}} (named by a cut answer's settleFullAnswer) and \
             settle://rule-language (see resources/list)"
        ),
        None,
    )
}

fn resource(uri: String, name: String, description: String) -> Resource {
    Resource::new(uri, name)
        .with_description(description)
        .with_mime_type(JSON)
}

impl SettleServer {
    /// `resources/list`: every stored result, oldest first, paged by an opaque cursor.
    pub(super) fn list_result_resources(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let offset = match cursor {
            None | Some("") => 0,
            Some(c) => c.parse::<usize>().map_err(|_| {
                ErrorData::invalid_params(
                    "cursor is not one this server issued: omit it for the first page",
                    None,
                )
            })?,
        };
        let subjects = self
            .store()
            .resource_subjects(offset, PAGE + 1)
            .map_err(db_error)?;
        let more = subjects.len() > PAGE;
        let mut resources = Vec::new();
        if offset == 0 {
            resources.push(resource(
                super::language::LANGUAGE_URI.into(),
                "settle rule language".into(),
                "How to write create_strategy rules: schema, operators, indicators, defaults and \
                 worked examples"
                    .into(),
            ));
        }
        for (kind, id, artifact) in subjects.into_iter().take(PAGE) {
            if kind == "backtest" {
                resources.push(resource(
                    trades_uri(&id),
                    format!("{id} trades"),
                    format!("Every closed trade of backtest {id} of strategy {artifact}"),
                ));
                resources.push(resource(
                    equity_uri(&id),
                    format!("{id} daily equity"),
                    format!("Daily equity of backtest {id} of strategy {artifact}"),
                ));
                resources.push(
                    resource(
                        report_uri(&id),
                        format!("{id} report"),
                        format!("HTML report of backtest {id} of strategy {artifact}"),
                    )
                    .with_mime_type(HTML),
                );
                resources.push(resource(
                    manifest_uri(&id),
                    format!("{id} manifest"),
                    format!("What backtest {id} of strategy {artifact} was computed from"),
                ));
            } else {
                resources.push(resource(
                    rows_uri(&id),
                    format!("{id} rows"),
                    format!("Every finished combination of sweep {id} of strategy {artifact}"),
                ));
                resources.push(resource(
                    sweep_manifest_uri(&id),
                    format!("{id} manifest"),
                    format!("Sweep {id} of strategy {artifact} with what it was computed from"),
                ));
            }
        }
        let mut out = ListResourcesResult::with_all_items(resources);
        out.next_cursor = more.then(|| (offset + PAGE).to_string());
        Ok(out)
    }

    /// `resources/templates/list`: the URI shapes.
    pub(super) fn result_resource_templates() -> ListResourceTemplatesResult {
        let typed = |uri: &str, name: &str, description: &str, mime: &str| {
            ResourceTemplate::new(uri, name)
                .with_description(description)
                .with_mime_type(mime)
        };
        let template =
            |uri: &str, name: &str, description: &str| typed(uri, name, description, JSON);
        ListResourceTemplatesResult::with_all_items(vec![
            template(
                "settle://backtests/{backtest_id}/trades",
                "backtest trades",
                "Every closed trade of a backtest (backtest_id from get_backtest), as a JSON array",
            ),
            template(
                "settle://backtests/{backtest_id}/equity",
                "backtest daily equity",
                "Daily equity of a backtest (backtest_id from get_backtest), as a JSON array",
            ),
            typed(
                "settle://backtests/{backtest_id}/report",
                "backtest report",
                "A backtest's self-contained HTML report: metrics, caveats, pictures, trades, inputs",
                HTML,
            ),
            template(
                "settle://backtests/{backtest_id}/manifest",
                "backtest manifest",
                "What a backtest was computed from (series fingerprint, canonical rules, costs, \
                 engine options) and its result hash; `settle rerun FILE` recomputes it",
            ),
            template(
                "settle://assessments/{result_hash}",
                "assessment evidence",
                "Every number behind an assess_strategy verdict, with its manifest (its evidence_uri)",
            ),
            template(
                "settle://quantconnect/answers/{id}",
                "whole QuantConnect answer",
                "The whole of a QuantConnect answer that was cut to fit (its settleFullAnswer)",
            ),
            template(
                "settle://optimizations/{optimization_id}/rows",
                "optimization rows",
                "Every finished combination of a sweep, in combination order, as a JSON array",
            ),
            template(
                "settle://optimizations/{optimization_id}/manifest",
                "optimization manifest",
                "A finished sweep's summary, overfitting guards and manifest, as `settle sweep \
                 --json` prints them; `settle rerun FILE` recomputes it",
            ),
        ])
    }

    /// `resources/read`: the whole result behind a URI, as JSON text (a report as HTML).
    pub(super) async fn read_result_resource(
        &self,
        uri: &str,
    ) -> Result<ReadResourceResult, ErrorData> {
        let text = match parse(uri).ok_or_else(|| not_found(uri))? {
            Target::Trades(id) => {
                let bt = self.backtest(&id, uri)?;
                serde_json::to_string(&bt.trades)
            }
            Target::Equity(id) => {
                let bt = self.backtest(&id, uri)?;
                serde_json::to_string(&bt.daily_equity)
            }
            Target::Report(id) => {
                let bt = self.backtest(&id, uri)?;
                let (page, _) = self.report_html(&bt).await.map_err(ErrorData::from)?;
                return Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    page, uri,
                )
                .with_mime_type(HTML)]));
            }
            Target::Manifest(id) => {
                let bt = self.backtest(&id, uri)?;
                let manifest = bt.facts.and_then(|f| f.manifest).ok_or_else(|| {
                    ErrorData::invalid_params(
                        format!(
                            "backtest {id} has no manifest (it did not pass, or predates them)"
                        ),
                        None,
                    )
                })?;
                serde_json::to_string(&serde_json::json!({ "manifest": manifest }))
            }
            Target::Assessment(id) => {
                let path = super::assess::assessment_path(self.store().home(), &id);
                return std::fs::read_to_string(path)
                    .map(|text| {
                        ReadResourceResult::new(vec![
                            ResourceContents::text(text, uri).with_mime_type(JSON)
                        ])
                    })
                    .map_err(|_| not_found(uri));
            }
            Target::Language => Ok(settle_strategies::language::describe_json()),
            Target::CloudAnswer => {
                let dir = crate::quantconnect::answers_dir(self.store().home());
                Ok(crate::quantconnect::answer::read_saved(&dir, uri)
                    .ok_or_else(|| not_found(uri))?)
            }
            Target::SweepManifest(id) => {
                let opt = self
                    .store()
                    .get_optimization(&id)
                    .map_err(db_error)?
                    .ok_or_else(|| not_found(uri))?;
                let end = self.sweep_end(&opt).map_err(ErrorData::from)?;
                let document = end.and_then(|e| e.document).ok_or_else(|| {
                    ErrorData::invalid_params(
                        format!(
                            "sweep {id} has no manifest: it has not finished, was cancelled, \
                             or predates them"
                        ),
                        None,
                    )
                })?;
                Ok(document)
            }
            Target::Rows(id) => {
                self.store()
                    .get_optimization(&id)
                    .map_err(db_error)?
                    .ok_or_else(|| not_found(uri))?;
                let rows = self.store().optimization_rows(&id).map_err(db_error)?;
                serde_json::to_string(&rows)
            }
        }
        .map_err(|e| ErrorData::internal_error(format!("cannot serialize {uri}: {e}"), None))?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(
            text, uri,
        )
        .with_mime_type(JSON)]))
    }

    /// The HTML report of a passed backtest, written by running its version's rules again,
    /// and a sentence when that run's headline differs from the stored one (the data under
    /// the series changed since).
    pub(super) async fn report_html(
        &self,
        bt: &crate::model::BacktestRecord,
    ) -> Result<(String, String), Failure> {
        let id = &bt.backtest_id;
        if bt.status != "passed" {
            return Err(fix(format!(
                "backtest {id} is {}: there is no result to report yet",
                bt.status
            )));
        }
        let s = self
            .store()
            .get_strategy(&bt.artifact_id)?
            .ok_or_else(|| fix(format!("the version of backtest {id} no longer exists")))?;
        let backend = self.backend.clone();
        let (page, metrics) = tokio::task::spawn_blocking(move || backend.report(&s.definition))
            .await
            .map_err(|e| fix(format!("the report of {id} stopped: {e}")))??;
        let note = match &bt.metrics {
            Some(m) if *m != metrics => format!(
                " Note: the rerun gives {}, not the stored {}: the data in the store changed \
                 since backtest {id} ran.",
                metrics.text(),
                m.text()
            ),
            _ => String::new(),
        };
        Ok((page, note))
    }

    fn backtest(&self, id: &str, uri: &str) -> Result<crate::model::BacktestRecord, ErrorData> {
        self.store()
            .get_backtest(id)
            .map_err(db_error)?
            .ok_or_else(|| not_found(uri))
    }
}

fn db_error(e: crate::db::DbError) -> ErrorData {
    ErrorData::internal_error(format!("database: {e}"), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_and_reject_others() {
        assert_eq!(
            parse(&trades_uri("bt_1")),
            Some(Target::Trades("bt_1".into()))
        );
        assert_eq!(
            parse(&equity_uri("bt_1")),
            Some(Target::Equity("bt_1".into()))
        );
        assert_eq!(
            parse(&report_uri("bt_1")),
            Some(Target::Report("bt_1".into()))
        );
        assert_eq!(
            parse(&rows_uri("opt_9")),
            Some(Target::Rows("opt_9".into()))
        );
        assert_eq!(
            parse(&sweep_manifest_uri("opt_9")),
            Some(Target::SweepManifest("opt_9".into()))
        );
        assert_eq!(
            parse("settle://quantconnect/answers/0123456789abcdef"),
            Some(Target::CloudAnswer)
        );
        for bad in [
            "settle://backtests//trades",
            "settle://backtests/bt_1",
            "settle://backtests/bt_1/trades/x",
            "file:///etc/passwd",
            "settle://sessions/s/rows",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
