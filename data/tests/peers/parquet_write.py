"""Writes Parquet files the way pandas, pyarrow, polars and Databento's client write them, for
settle's Parquet import tests. Every file holds real bars; only the time column's type differs.

Reads one JSON object on stdin:
  {"out": dir, "minutes_csv": the 6EH4 one-minute CSV (gzip, columns timestamp_utc,...),
   "dbn": a DBN file for Databento's DBNStore.to_parquet,
   "daily": {"date": ["YYYY-MM-DD", ...], "open": [...], "high": [...], "low": [...],
             "close": [...], "volume": [...]}}
Writes into dir:
  pandas_ns_utc.parquet        timestamp[ns, tz=UTC]            (pandas' default)
  pandas_us_chicago.parquet    timestamp[us], no zone: Chicago wall-clock time
  pyarrow_ms_new_york.parquet  timestamp[ms, tz=America/New_York]
  polars_us_utc.parquet        polars Datetime("us", "UTC")
  polars_ns_naive.parquet      polars Datetime("ns"), no zone: UTC wall-clock time
  databento.parquet            DBNStore.to_parquet (ts_event: timestamp[ns, tz=UTC])
  daily_date32.parquet         pyarrow date32 dates
  half_second.parquet          the first ten minutes, each half a second late
"""
import json
import os
import sys

import databento
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

spec = json.load(sys.stdin)
out = spec["out"]


def path(name):
    return os.path.join(out, name)


bars = pd.read_csv(spec["minutes_csv"])
utc = pd.to_datetime(bars["timestamp_utc"], utc=True)
prices = bars[["open", "high", "low", "close", "volume"]]

frame = prices.assign(time=utc.astype("datetime64[ns, UTC]"))
frame.to_parquet(path("pandas_ns_utc.parquet"), index=False)
frame.head(10).assign(time=frame["time"].head(10) + pd.Timedelta("500ms")).to_parquet(
    path("half_second.parquet"), index=False)

chicago = utc.dt.tz_convert("America/Chicago").dt.tz_localize(None).astype("datetime64[us]")
prices.assign(time=chicago).to_parquet(path("pandas_us_chicago.parquet"), index=False)

table = pa.Table.from_pandas(prices, preserve_index=False).append_column(
    "time", pa.array(utc.dt.tz_convert("America/New_York"), pa.timestamp("ms", tz="America/New_York")))
pq.write_table(table, path("pyarrow_ms_new_york.parquet"))

frame = pl.from_pandas(prices)
times = pl.Series("time", bars["timestamp_utc"]).str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us")
frame.with_columns(times.dt.replace_time_zone("UTC")).write_parquet(path("polars_us_utc.parquet"))
frame.with_columns(times.dt.cast_time_unit("ns")).write_parquet(path("polars_ns_naive.parquet"))

databento.DBNStore.from_file(spec["dbn"]).to_parquet(path("databento.parquet"))

daily = spec["daily"]
columns = {k: daily[k] for k in ["open", "high", "low", "close", "volume"]}
columns["date"] = pa.array(pd.to_datetime(daily["date"]).date, pa.date32())
pq.write_table(pa.table(columns), path("daily_date32.parquet"))
