//! Reference data: `list_symbols`, `get_contract_specs`, `list_templates`, `list_datasets`.

use crate::args::Args;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use settle_data::specs::{self, ContractSpec};

use super::SettleServer;
use crate::backend::{DatasetInfo, TemplateInfo};
use crate::reply::{fix, input_schema, output_schema, reply, ToolResult};

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSymbolsArgs {
    /// Only this sector, e.g. `equity_index`, `energy`, `metals`, `grains`, `rates`, `fx`.
    pub sector: Option<String>,
}

/// A root ticker and its name; get_contract_specs has the rest.
#[derive(Debug, Serialize)]
pub struct SymbolInfo {
    /// Root ticker, e.g. `ES`.
    pub ticker: String,
    /// Full contract name, e.g. `E-mini S&P 500`.
    pub name: String,
}

/// The roots of one sector.
#[derive(Debug, Serialize)]
pub struct SectorSymbols {
    /// Sector name, e.g. `equity_index`.
    pub sector: String,
    /// Its roots, in catalog order.
    pub symbols: Vec<SymbolInfo>,
}

/// The roots settle knows, by sector.
#[derive(Debug, Serialize)]
pub struct SymbolList {
    /// One entry per sector.
    pub sectors: Vec<SectorSymbols>,
    /// Roots listed in all.
    pub count: u64,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecArgs {
    /// Root ticker, e.g. `ES`, `MNQ`, `CL` (case-insensitive).
    pub symbol: String,
}

/// A contract spec as a tool returns it (a JSON-schema'd copy of [`ContractSpec`]).
#[derive(Debug, Serialize)]
pub struct SpecOut {
    /// Root ticker, e.g. `ES`.
    pub ticker: String,
    /// Full contract name.
    pub name: String,
    /// The exchange it trades on, e.g. `CME`, `CBOT`, `NYMEX`, `COMEX`.
    pub exchange: String,
    /// Sector, e.g. `equity_index`, `energy`.
    pub sector: String,
    /// Currency of `multiplier` and `tick_value` (USD except a few roots such as `NIY`).
    pub currency: String,
    /// Dollars per one point of price.
    pub multiplier: f64,
    /// Minimum price increment, in price points.
    pub tick_size: f64,
    /// Dollars per tick.
    pub tick_value: f64,
    /// True for micro contracts (lower default commission).
    pub micro: bool,
    /// Default commission per contract per side, in dollars.
    pub default_commission: f64,
    /// Listed contract month codes, e.g. `HMUZ`.
    pub months: String,
    /// Quoting unit of the price, e.g. `index points`, `cents per bushel`.
    pub price_unit: String,
    /// Last-trade rule in words.
    pub expiry_rule: String,
    /// When a front-month follower rolls, in words.
    pub roll_rule: String,
    /// IANA time zone of the exchange, e.g. `America/Chicago`.
    pub timezone: String,
    /// Globex hours in words.
    pub hours: String,
}

impl From<&ContractSpec> for SpecOut {
    fn from(s: &ContractSpec) -> SpecOut {
        SpecOut {
            ticker: s.root.into(),
            name: s.name.into(),
            exchange: s.exchange.into(),
            sector: s.sector.into(),
            currency: s.currency.into(),
            multiplier: s.multiplier,
            tick_size: s.tick_size,
            tick_value: s.tick_value,
            micro: s.micro,
            default_commission: s.default_commission(),
            months: s.months.into(),
            price_unit: s.price_unit.into(),
            expiry_rule: s.expiry_rule.into(),
            roll_rule: s.roll_rule.into(),
            timezone: s.timezone.into(),
            hours: s.hours.into(),
        }
    }
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTemplatesArgs {
    /// One template in full: every parameter with its label, category and bounds.
    pub name: Option<String>,
}

/// A template in brief: its parameters as `key=default (min..max)`.
#[derive(Debug, Serialize)]
pub struct TemplateBrief {
    /// The name `create_strategy` takes as `template`.
    pub name: String,
    /// One line on what the strategy does.
    pub description: String,
    /// Its parameters as `key=default (min..max)`.
    pub parameters: String,
}

/// The templates `create_strategy` accepts.
#[derive(Debug, Serialize)]
pub struct TemplateList {
    /// Every template, in brief.
    pub templates: Vec<TemplateBrief>,
    /// With `name`: that template in full.
    pub template: Option<TemplateInfo>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDatasetsArgs {
    /// One root ticker, e.g. `ES`: every series of it, contract by contract.
    pub symbol: Option<String>,
}

/// Series of one symbol, bar size and kind, or (with `symbol`) one series.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct DatasetRow {
    /// Root ticker, e.g. `ES`.
    pub symbol: String,
    /// Bar size, e.g. `1m` or `1d`.
    pub bar_size: String,
    /// `continuous` (front month: what a strategy trades by default), `contract` (single
    /// expiries; pass one as `contract`) or `nearby` (unadjusted n-th nearby such as `CL1`).
    pub kind: String,
    /// The contract or nearby code, or for several contracts the first and last (`ESH13..ESZ13`).
    pub contract: Option<String>,
    /// How many series the row stands for.
    pub series: u64,
    /// Earliest first-bar open time over the row's series, RFC 3339 UTC.
    pub first: String,
    /// Latest last-bar open time over the row's series, RFC 3339 UTC.
    pub last: String,
    /// Bars stored, summed over the row's series.
    pub rows: u64,
    /// Closes only: stops and targets are checked on closes, "open" fills use the close.
    pub close_only: bool,
    /// `none` (P&L across a roll includes the price gap), `difference` or `ratio`.
    pub adjustment: String,
}

/// The local series, one row per symbol, bar size and kind.
#[derive(Debug, Serialize)]
pub struct DatasetList {
    /// The rows, in the store's order.
    pub datasets: Vec<DatasetRow>,
}

#[tool_router(router = reference_tools, vis = "pub(super)")]
impl SettleServer {
    /// `list_symbols`: the futures roots settle knows. The client reads the `description` of the
    /// attribute below.
    #[tool(
        description = "Every CME Group futures root settle knows, with ticker, name, sector and exchange. Optional sector filter.",
        input_schema = input_schema::<ListSymbolsArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_symbols(&self, Args(args): Args<ListSymbolsArgs>) -> ToolResult<SymbolList> {
        let sector = args.sector.map(|s| s.trim().to_ascii_lowercase());
        let groups: Vec<SectorSymbols> = sectors()
            .into_iter()
            .filter(|s| sector.as_deref().is_none_or(|want| *s == want))
            .map(|sec| SectorSymbols {
                sector: sec.into(),
                symbols: specs::all()
                    .iter()
                    .filter(|s| s.sector == sec)
                    .map(|s| SymbolInfo {
                        ticker: s.root.into(),
                        name: s.name.into(),
                    })
                    .collect(),
            })
            .collect();
        if groups.is_empty() {
            if let Some(sector) = sector {
                return Err(fix(format!(
                    "no symbols in sector '{sector}'; sectors are: {}",
                    sectors().join(", ")
                )));
            }
        }
        let count = groups.iter().map(|g| g.symbols.len() as u64).sum();
        reply(
            format!(
                "{count} symbol(s); get_contract_specs gives one root's tick, hours and costs."
            ),
            SymbolList {
                sectors: groups,
                count,
            },
        )
    }

    /// `get_contract_specs`: one root's contract spec. The client reads the `description` of the
    /// attribute below.
    #[tool(
        description = "Contract specification of one futures root: tick size and value, multiplier, months, roll rule, trading hours, default commission.",
        input_schema = input_schema::<SpecArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_contract_specs(&self, Args(args): Args<SpecArgs>) -> ToolResult<SpecOut> {
        let spec = specs::spec(&args.symbol).map_err(|e| fix(format!("symbol: {e}")))?;
        let out = SpecOut::from(spec);
        reply(
            format!(
                "{} ({}): tick {} = ${} , ${} per point.",
                out.ticker, out.name, out.tick_size, out.tick_value, out.multiplier
            ),
            out,
        )
    }

    /// `list_templates`: the built-in strategy templates. The client reads the `description` of the
    /// attribute below.
    #[tool(
        description = "Strategy templates create_strategy accepts, each with its parameters as key=default (min..max); name one for its parameters in full.",
        input_schema = input_schema::<ListTemplatesArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_templates(
        &self,
        Args(args): Args<ListTemplatesArgs>,
    ) -> ToolResult<TemplateList> {
        let all = self.backend.templates();
        let template = match &args.name {
            Some(name) => Some(
                all.iter()
                    .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
                    .cloned()
                    .ok_or_else(|| {
                        fix(format!(
                            "name: no template `{name}`; valid: {}",
                            all.iter()
                                .map(|t| t.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?,
            ),
            None => None,
        };
        let templates = all
            .iter()
            .map(|t| TemplateBrief {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: t
                    .parameters
                    .iter()
                    .map(|p| match (p.min, p.max) {
                        (Some(lo), Some(hi)) => format!("{}={} ({lo}..{hi})", p.key, p.value),
                        _ => format!("{}={}", p.key, p.value),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect::<Vec<_>>();
        reply(
            format!("{} template(s).", templates.len()),
            TemplateList {
                templates,
                template,
            },
        )
    }

    /// `list_datasets`: the series in the local store. The client reads the `description` of the
    /// attribute below.
    #[tool(
        description = "The local series: one row per symbol, bar size and kind (continuous, contract, nearby) with first/last bar, rows, close_only, adjustment. Give symbol for its series one by one.",
        input_schema = input_schema::<ListDatasetsArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_datasets(
        &self,
        Args(args): Args<ListDatasetsArgs>,
    ) -> ToolResult<DatasetList> {
        let mut all = self.backend.datasets()?;
        let datasets = match &args.symbol {
            Some(sym) => {
                all.retain(|d| d.symbol.eq_ignore_ascii_case(sym.trim()));
                if all.is_empty() {
                    return Err(fix(format!(
                        "symbol: no series of '{sym}' in the local data store; list_datasets \
                         without symbol shows what there is"
                    )));
                }
                all.iter()
                    .map(|d| dataset_row(std::slice::from_ref(d)))
                    .collect()
            }
            None => grouped(&all),
        };
        reply(
            format!(
                "{} row(s).{}",
                datasets.len(),
                if args.symbol.is_none() {
                    " Give symbol for one root's series one by one."
                } else {
                    ""
                }
            ),
            DatasetList { datasets },
        )
    }
}

/// Series grouped by symbol, bar size, kind, closeOnly and adjustment, in the store's order.
fn grouped(all: &[DatasetInfo]) -> Vec<DatasetRow> {
    let key = |d: &DatasetInfo| {
        (
            d.symbol.clone(),
            d.bar_size.clone(),
            d.kind.clone(),
            d.close_only,
            d.adjustment.clone(),
            // Continuous and nearby series stay one row each; contracts are summed.
            (d.kind != "contract").then(|| d.contract.clone()),
        )
    };
    let mut groups: Vec<(_, Vec<DatasetInfo>)> = Vec::new();
    for d in all {
        let k = key(d);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(d.clone()),
            None => groups.push((k, vec![d.clone()])),
        }
    }
    groups
        .iter()
        .map(|(_, members)| dataset_row(members))
        .collect()
}

/// One row for `members` (same symbol, bar size and kind): the earliest first bar, the latest
/// last, the rows summed.
pub(super) fn dataset_row(members: &[DatasetInfo]) -> DatasetRow {
    let d = &members[0];
    let mut codes: Vec<&str> = members
        .iter()
        .filter_map(|m| m.contract.as_deref())
        .collect();
    codes.sort_unstable();
    let contract = match codes.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        [first, .., last] => Some(format!("{first}..{last}")),
    };
    DatasetRow {
        symbol: d.symbol.clone(),
        bar_size: d.bar_size.clone(),
        kind: d.kind.clone(),
        contract,
        series: members.len() as u64,
        first: members
            .iter()
            .map(|m| m.first.as_str())
            .min()
            .unwrap_or_default()
            .into(),
        last: members
            .iter()
            .map(|m| m.last.as_str())
            .max()
            .unwrap_or_default()
            .into(),
        rows: members.iter().map(|m| m.rows).sum(),
        close_only: d.close_only,
        adjustment: d.adjustment.clone(),
    }
}

/// Distinct sectors in catalog order.
fn sectors() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for s in specs::all() {
        if !out.contains(&s.sector) {
            out.push(s.sector);
        }
    }
    out
}
