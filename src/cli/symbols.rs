//! `settle symbols` and `settle specs`.

use settle_data::specs;

#[derive(Debug, clap::Args)]
pub struct SymbolsArgs {
    /// Only this sector (equity_index, energy, metals, grains, rates, fx, crypto, livestock, softs, volatility).
    #[arg(long)]
    sector: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct SpecsArgs {
    /// Root symbol, e.g. ES.
    root: String,
    #[arg(long)]
    json: bool,
}

pub fn symbols(a: &SymbolsArgs) -> anyhow::Result<()> {
    let list: Vec<&specs::ContractSpec> = specs::all()
        .iter()
        .filter(|s| {
            a.sector
                .as_deref()
                .is_none_or(|x| s.sector.eq_ignore_ascii_case(x))
        })
        .collect();
    if a.sector.is_some() && list.is_empty() {
        anyhow::bail!("no roots in sector `{}`", a.sector.as_deref().unwrap_or(""));
    }
    if a.json {
        return super::print_json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.root.to_string(),
                s.name.to_string(),
                s.exchange.to_string(),
                s.sector.to_string(),
                s.tick_size.to_string(),
                format!("{:.4}", s.tick_value),
                if s.micro { "yes" } else { "" }.to_string(),
            ]
        })
        .collect();
    super::table::print(
        &[
            "root", "name", "exch", "sector", ">tick", ">tick $", ">micro",
        ],
        &rows,
    );
    Ok(())
}

pub fn specs(a: &SpecsArgs) -> anyhow::Result<()> {
    let s = specs::spec(&a.root)?;
    if a.json {
        return super::print_json(s);
    }
    let v = serde_json::to_value(s)?;
    for (k, v) in v.as_object().into_iter().flatten() {
        println!(
            "{k:<24} {}",
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        );
    }
    Ok(())
}
