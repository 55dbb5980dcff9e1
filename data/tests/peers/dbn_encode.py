"""Writes a DBN file with Databento's own encoder (PyPI databento-dbn), for settle's import tests.

Reads one JSON object on stdin:
  {"out": path, "schema": "ohlcv-1d", "stype_in": "raw_symbol" | "continuous",
   "mappings": {symbol: [[start "YYYY-MM-DD", end, instrument_id], ...]},
   "definitions": [[instrument_id, raw_symbol, min_price_increment_nanos, ts_event], ...],
   "bars": [[instrument_id, ts_event_nanos, open, high, low, close (nanos), volume], ...]}
Definitions are written first, then the bars in the order given.
"""
import datetime as dt
import json
import sys
from types import SimpleNamespace

import databento_dbn as db

spec = json.load(sys.stdin)
schema = db.Schema(spec["schema"])
rtype = {"ohlcv-1m": db.RType.OHLCV_1M, "ohlcv-1h": db.RType.OHLCV_1H,
         "ohlcv-1d": db.RType.OHLCV_1D}[spec["schema"]]
day = dt.date.fromisoformat
mappings = [
    SimpleNamespace(raw_symbol=sym, intervals=[
        SimpleNamespace(start_date=day(s), end_date=day(e), symbol=str(iid)) for s, e, iid in ivs])
    for sym, ivs in spec["mappings"].items()
]
meta = db.Metadata(dataset="GLBX.MDP3", schema=schema, start=spec["bars"][0][1],
                   stype_in=db.SType(spec["stype_in"]), stype_out=db.SType.INSTRUMENT_ID,
                   symbols=list(spec["mappings"]), mappings=mappings)
with open(spec["out"], "wb") as f:
    f.write(bytes(meta.encode()))
    for iid, raw, inc, ts in spec.get("definitions", []):
        f.write(bytes(db.InstrumentDefMsg(
            publisher_id=1, instrument_id=iid, ts_event=ts, ts_recv=ts, min_price_increment=inc,
            display_factor=1_000_000_000, raw_symbol=raw, asset=raw[:-2], security_type="FUT",
            instrument_class=db.InstrumentClass.FUTURE,
            security_update_action=db.SecurityUpdateAction.ADD)))
    for iid, ts, o, h, l, c, v in spec["bars"]:
        f.write(bytes(db.OHLCVMsg(rtype, 1, iid, ts, o, h, l, c, v)))
