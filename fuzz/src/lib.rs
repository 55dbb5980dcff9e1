//! One entry per parser of outside input, each handing the fuzzer's bytes to the library
//! function settle itself calls. The fuzz targets (`fuzz_targets/`) call these, and so does the
//! corpus smoke test (`tests/fuzz_corpus.rs`), which includes this file: what the fuzzer runs
//! and what CI replays are the same code.
//!
//! An entry returns nothing: an `Err` is a correct answer to bad input; only a panic (or a
//! crash, a hang, an allocation past the fuzzer's limit) is a finding.

use settle_data::import::{csv_ohlcv, databento, lean, parquet, CsvOptions, Stamp};
use settle_data::BarSize;
use settle_engine::sweep::{Grid, Param};
use settle_engine::Window;
use settle_mcp::args;
use settle_mcp::quantconnect::answer::Answers;
use settle_mcp::quantconnect::catalog;
use settle_mcp::tools::{
    assess, charts, imports, language, operations, reference, sessions, strategies, sweeps,
};
use settle_strategies::language::{parse_rules_text, Context};
use settle_strategies::rules;

/// A name for the input in error messages.
const FILE: &str = "fuzz-input";

/// The largest grid the grid entry expands (the CLI's default cap is a million combinations;
/// a smaller one keeps each run fast without skipping any parsing).
const GRID_CAP: usize = 10_000;

/// The generic CSV importer with the layout of Nautilus Trader's bar files (`timestamp_utc`,
/// OHLCV) read as Chicago time stamped at the bar's close, so DST gaps and the bar-close shift
/// are exercised.
pub fn csv(data: &[u8]) {
    let _ = csv_ohlcv::read_from(data, FILE, &csv_options());
}

/// The options of [`csv`] and [`parquet`].
fn csv_options() -> CsvOptions {
    CsvOptions {
        time_col: "timestamp_utc".into(),
        timezone: "America/Chicago".into(),
        stamp: Stamp::BarClose,
        ..CsvOptions::new("6E", BarSize::Minutes(1))
    }
}

/// A Databento DBN file, plain or zstd-compressed.
pub fn dbn(data: &[u8]) {
    let _ = databento::read_from(data, FILE);
}

/// A Parquet file with the columns of [`csv`].
pub fn parquet(data: &[u8]) {
    let _ = parquet::read_bytes(data, FILE, &csv_options());
}

/// A Lean daily `<sym>_trade.zip`.
pub fn lean_zip(data: &[u8]) {
    let _ = lean::bars_zip_from(std::io::Cursor::new(data), FILE, "GC", BarSize::Daily);
}

/// The rule language: a strategy's JSON text, parsed and then compiled.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(strategy) = parse_rules_text(text, &Context::new("fuzz", "ES", "5m")) {
        let _ = rules::compile(&strategy);
    }
}

/// A window string (`last 6 months`, `since 2020`, `2022-01-01..2023-06-30`). A window that
/// parses must read back the same from its own spelling, which is what results print.
pub fn window(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(w) = text.parse::<Window>() {
        assert_eq!(w.to_string().parse::<Window>().ok(), Some(w), "`{text}`");
    }
}

/// Sweep grid specs, one `--param` value a line (`fast=5:30:5`, `slow=50,100`), expanded.
pub fn grid(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(params) = text
        .lines()
        .map(Param::parse)
        .collect::<Result<Vec<_>, _>>()
    else {
        return;
    };
    if let Ok(grid) = Grid::with_cap(&params, GRID_CAP) {
        let _ = grid.params(grid.total_combinations() - 1);
    }
}

/// A JSON-RPC message as an MCP client sends it: screened the way both transports screen
/// `tools/call`, then its `params.arguments` read as every tool's argument type.
pub fn mcp_args(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = settle_mcp::screen::invalid_tool_call_line(text);
    let Ok(message) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let Some(arguments) = message.pointer("/params/arguments") else {
        return;
    };
    macro_rules! parse_as {
        ($($ty:ty),* $(,)?) => {
            $(let _ = args::parse::<$ty>(arguments.clone());)*
        };
    }
    parse_as!(
        assess::AssessArgs,
        charts::ChartArgs,
        charts::ReportArgs,
        charts::SweepChartArgs,
        imports::ImportArgs,
        language::DescribeArgs,
        operations::WaitArgs,
        operations::CancelArgs,
        reference::ListSymbolsArgs,
        reference::SpecArgs,
        reference::ListTemplatesArgs,
        reference::ListDatasetsArgs,
        sessions::CreateSessionArgs,
        sessions::ListSessionsArgs,
        sessions::SessionIdArgs,
        strategies::ListStrategiesArgs,
        strategies::ArtifactArgs,
        strategies::CreateStrategyArgs,
        strategies::UpdateStrategyArgs,
        strategies::DeleteArgs,
        strategies::BacktestArgs,
        strategies::GetBacktestArgs,
        sweeps::SetupArgs,
        sweeps::RunArgs,
        sweeps::GetOptimizationArgs,
    );
}

/// A QuantConnect API answer (JSON text) turned into a tool result, cut to a small budget so
/// the cutter runs on most inputs; the tool it answers is picked by the input's length.
pub fn qc_answer(data: &[u8]) {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let tools = catalog::catalog();
    let answers = Answers {
        budget: 3_000,
        dir: None,
    };
    let _ = answers.success(&tools[data.len() % tools.len()], answer, Vec::new());
}
