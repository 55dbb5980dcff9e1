//! Reference data: `list_symbols`, `get_contract_specs`, `list_templates`, `list_datasets`.

use crate::args::Args;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use settle_data::specs::{self, ContractSpec};

use super::SettleServer;
use crate::backend::{DatasetInfo, TemplateInfo};
use crate::reply::{fix, input_schema, output_schema, reply, ToolResult};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSymbolsArgs {
    /// Only this sector, e.g. `equity_index`, `energy`, `metals`, `grains`, `rates`, `fx`.
    pub sector: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SymbolInfo {
    pub ticker: String,
    pub name: String,
    pub sector: String,
    pub exchange: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SymbolList {
    pub symbols: Vec<SymbolInfo>,
    pub count: u64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecArgs {
    /// Root ticker, e.g. `ES`, `MNQ`, `CL` (case-insensitive).
    pub symbol: String,
}

/// A contract spec as a tool returns it (a JSON-schema'd copy of [`ContractSpec`]).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SpecOut {
    pub ticker: String,
    pub name: String,
    pub exchange: String,
    pub sector: String,
    pub currency: String,
    /// Dollars per one point of price.
    pub multiplier: f64,
    pub tick_size: f64,
    /// Dollars per tick.
    pub tick_value: f64,
    pub micro: bool,
    /// Default commission per contract per side, in dollars.
    pub default_commission: f64,
    /// Listed contract month codes, e.g. `HMUZ`.
    pub months: String,
    pub price_unit: String,
    pub expiry_rule: String,
    pub roll_rule: String,
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateList {
    pub templates: Vec<TemplateInfo>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDatasetsArgs {
    /// Only this root ticker, e.g. `ES`.
    pub symbol: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DatasetList {
    pub datasets: Vec<DatasetInfo>,
}

#[tool_router(router = reference_tools, vis = "pub(super)")]
impl SettleServer {
    #[tool(
        description = "Every CME Group futures root settle knows, with ticker, name, sector and exchange. Optional sector filter.",
        input_schema = input_schema::<ListSymbolsArgs>(),
        output_schema = output_schema::<SymbolList>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_symbols(&self, Args(args): Args<ListSymbolsArgs>) -> ToolResult<SymbolList> {
        let sector = args.sector.map(|s| s.trim().to_ascii_lowercase());
        let symbols: Vec<SymbolInfo> = specs::all()
            .iter()
            .filter(|s| sector.as_deref().is_none_or(|want| s.sector == want))
            .map(|s| SymbolInfo {
                ticker: s.root.into(),
                name: s.name.into(),
                sector: s.sector.into(),
                exchange: s.exchange.into(),
            })
            .collect();
        if symbols.is_empty() {
            if let Some(sector) = sector {
                return Err(fix(format!(
                    "no symbols in sector '{sector}'; sectors are: {}",
                    sectors().join(", ")
                )));
            }
        }
        let count = symbols.len() as u64;
        reply(format!("{count} symbol(s)."), SymbolList { symbols, count })
    }

    #[tool(
        description = "Contract specification of one futures root: tick size and value, multiplier, months, roll rule, trading hours, default commission.",
        input_schema = input_schema::<SpecArgs>(),
        output_schema = output_schema::<SpecOut>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_contract_specs(&self, Args(args): Args<SpecArgs>) -> ToolResult<SpecOut> {
        let spec = specs::spec(&args.symbol).map_err(|_| {
            fix(format!(
                "unknown symbol '{}': use a root ticker from list_symbols, e.g. {}",
                args.symbol,
                specs::all()
                    .iter()
                    .take(8)
                    .map(|s| s.root)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let out = SpecOut::from(spec);
        reply(
            format!(
                "{} ({}): tick {} = ${} , ${} per point.",
                out.ticker, out.name, out.tick_size, out.tick_value, out.multiplier
            ),
            out,
        )
    }

    #[tool(
        description = "Strategy templates create_strategy accepts, with their canonical parameters.",
        input_schema = input_schema::<NoArgs>(),
        output_schema = output_schema::<TemplateList>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_templates(&self, Args(_): Args<NoArgs>) -> ToolResult<TemplateList> {
        let templates = self.backend.templates();
        reply(
            format!("{} template(s).", templates.len()),
            TemplateList { templates },
        )
    }

    #[tool(
        description = "Which symbols, bar sizes and date ranges exist in the local data store.",
        input_schema = input_schema::<ListDatasetsArgs>(),
        output_schema = output_schema::<DatasetList>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_datasets(
        &self,
        Args(args): Args<ListDatasetsArgs>,
    ) -> ToolResult<DatasetList> {
        let mut datasets = self.backend.datasets().map_err(fix)?;
        if let Some(sym) = args.symbol {
            datasets.retain(|d| d.symbol.eq_ignore_ascii_case(sym.trim()));
        }
        reply(
            format!("{} dataset(s).", datasets.len()),
            DatasetList { datasets },
        )
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
