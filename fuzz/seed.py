#!/usr/bin/env python3
"""Writes the named seed inputs into fuzz/corpus/<target>/: the repository's real files
(campuses, scenarios, load table, prices), heads of the shipped EPW files (header and a
few days: a whole year is 1.5 MB, too big to mutate quickly) and hand-written payloads.
The fuzzer's own finds sit beside them under hash names. Run from anywhere."""

import gzip
import json
import os

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(FUZZ, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# EPW: eight header lines, then hourly records.
for gz, short in [
    ("USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw.gz", "dulles"),
    ("USA_CO_Golden-NREL.724666_TMY3.epw.gz", "golden"),
]:
    lines = gzip.decompress(read("models/weather/" + gz)).split(b"\n")
    write("epw", short + "-head48.epw", b"\n".join(lines[: 8 + 48]) + b"\n")
    write("epw", short + "-head3.epw", b"\n".join(lines[: 8 + 3]) + b"\n")
    if short == "dulles":
        write("epw", short + "-head24.epw.gz", gzip.compress(b"\n".join(lines[: 8 + 24]) + b"\n", mtime=0))
        write("epw", short + "-header.epw", b"\r\n".join(lines[:8]) + b"\r\n")
        # The last day of January and the first of February.
        write("epw", short + "-jan31.epw", b"\n".join(lines[:8] + lines[8 + 30 * 24 : 8 + 32 * 24]) + b"\n")

for name in ["example.toml", "esif.toml"]:
    write("campus", name, read("models/campuses/" + name))
write("campus", "campus-1gw.toml", read("bench/twin/campus-1gw.toml"))

for name in sorted(os.listdir(os.path.join(ROOT, "models/scenarios"))):
    if name.endswith(".toml"):
        write("scenario", name, read("models/scenarios/" + name))
write("scenario", "events-all.toml", """hours = 2
step_s = 30
load = { kind = "training", period_s = 5, compute_frac = 0.7 }

[[events]]
kind = "load_change"
at_s = 60
duration_s = 600
utilisation_factor = 0.5

[[events]]
kind = "cdu_pump_trip"
at_s = 120
hall = "hall-b"
cdu = 1
residual_flow_frac = 0.2

[[events]]
kind = "tower_fan_failure"
at_s = 10
duration_s = 1
cells = 1
""")
write("scenario", "diurnal.toml",
      'load = { kind = "diurnal", min_utilisation = 0.3, max_utilisation = 0.9, peak_hour = 15 }\n')

table = read("models/scenarios/load-table.csv").decode()
write("load_table", "load-table.csv", table)
write("load_table", "load-table-head.csv", "\n".join(table.split("\n")[:6]) + "\n")
write("load_table", "two-halls.csv", "time,hall,utilisation,power_cap_w\n"
      "2026-07-15T00:00:00Z,hall-a,0.9,1200\n2026-07-15T00:00:00+02:00,hall-b, 0.5 ,700\n"
      "2026-07-15T06:00:00Z,hall-a,0.6,900\n")

# Problems: the documented example (models::schedule), and one with every part.
write("problem", "doc-example.json", json.dumps({
    "start": "2026-07-01T00:00:00Z", "slot_minutes": 60, "slots": 2,
    "halls": [{"id": "hall-a", "gpus": 8, "idle_kw_per_gpu": 0.1, "aux_kw_per_busy_gpu": 0.2,
               "min_cap_kw": 0.2, "max_cap_kw": 0.7, "throughput_curve": [[0.2, 0.5], [0.7, 1.0]],
               "cooling_capacity_kw": [10.0, 4.0]}],
    "facility": {"overhead_fraction": 0.1, "fixed_kw": 1.0},
    "grid": {"import_limit_kw": 20.0, "demand_charge_per_kw": 0.0,
             "price_scenarios": [{"probability": 1.0, "price_per_mwh": [40.0, 90.0]}],
             "carbon_kg_per_mwh": 300.0, "carbon_price_per_t": 0.0},
    "jobs": [{"id": "j1", "max_gpus": 8, "work_gpu_hours": 10.0, "release_slot": 0,
              "deadline_slot": 2, "unmet_penalty_per_gpu_hour": 5.0}],
}, indent=2))
write("problem", "full.json", json.dumps({
    "start": "2026-07-01T00:00:00Z", "slot_minutes": 15, "slots": 4,
    "halls": [
        {"id": "a", "gpus": 8, "idle_kw_per_gpu": 0.1, "aux_kw_per_busy_gpu": 0.2, "min_cap_kw": 0.2,
         "max_cap_kw": 0.7, "throughput_curve": [[0.2, 0.5], [0.5, 0.9], [0.7, 1.0]],
         "cooling_capacity_kw": 10.0},
        {"id": "b", "gpus": 16, "idle_kw_per_gpu": 0.12, "aux_kw_per_busy_gpu": 0.25, "min_cap_kw": 0.3,
         "max_cap_kw": 1.0, "throughput_curve": [[0.3, 0.6], [1.0, 1.0]],
         "cooling_capacity_kw": [20, 20, 18, 15]}],
    "facility": {"overhead_fraction": [0.1, 0.1, 0.12, 0.15], "fixed_kw": 1.0, "ramp_limit_kw_per_slot": 5.0},
    "grid": {"import_limit_kw": [40.0, 40.0, 30.0, 40.0], "demand_charge_per_kw": 2.5,
             "price_scenarios": [{"probability": 0.6, "price_per_mwh": [40, -5, 90, 30]},
                                 {"probability": 0.4, "price_per_mwh": 120}],
             "carbon_kg_per_mwh": 300.0, "carbon_price_per_t": 50.0},
    "battery": {"energy_kwh": 20, "power_kw": 10, "charge_efficiency": 0.95, "discharge_efficiency": 0.95,
                "soc_initial": 0.5, "soc_min": 0.1, "soc_max": 0.9},
    "generators": [{"id": "gt1", "max_kw": 15, "ramp_kw_per_slot": 5, "initial_kw": 0, "cost_per_mwh": 110,
                    "carbon_kg_per_mwh": 450}],
    "jobs": [{"id": "j", "max_gpus": 8, "work_gpu_hours": 1.0, "release_slot": 0, "deadline_slot": 3,
              "unmet_penalty_per_gpu_hour": 5.0, "halls": ["a"]},
             {"id": "k", "max_gpus": 16, "work_gpu_hours": 3.5, "release_slot": 1, "deadline_slot": 4,
              "unmet_penalty_per_gpu_hour": 7.0, "rigid": True}],
    "risk": {"cvar_alpha": 0.9, "weight": 0.3},
}, indent=1))

# Point maps: README's example and a gateway's.
write("point_map", "readme.toml", """accept_native_points = true

[[topic]]
filter = "telegraf/#"
format = "line_protocol"
precision = "ns"
site = "dfw1"

[[point]]
measurement = "cdu"
field = "supply_temp_f"
point = "hall-{hall}/cdu-{unit}/tcs_supply_temp_c"
unit = "degF"

[[point]]
measurement = "cdu"
field = "flow_gpm"
tags = { loop = "tcs" }
point = "hall-{hall}/cdu-{unit}/tcs_flow_kg_per_s"
unit = "gpm"
density_kg_per_m3 = 1021.5

[[point]]
source = "Hall{hall}/R{rack}/kW"
point = "hall-{hall}/rack-{rack}/power_kw"

[limits]
max_future_s = 300
max_age_s = 604800
max_payload_bytes = 1048576
""")
write("point_map", "gateway.toml", """accept_native_points = false

[[topic]]
filter = "telegraf/#"
format = "line_protocol"
precision = "ms"

[[topic]]
filter = "plant/+/batch"
format = "native"

[[point]]
source = "Hall{hall}/R{rack}/kW"
point = "hall-{hall}/rack-{rack}/power_kw"

[[point]]
source = "Plant/FWS"
point = "plant/fw_supply_temp_c"
unit = "degF"

[[point]]
measurement = "cdu"
field = "p_psi"
tags = { kind = "supply" }
point = "hall-{hall}/cdu-{unit}/tcs_supply_kpa"
unit = "psi"
""")

# Native payloads, both native targets.
singles = [
    '{"ts": "2026-07-01T12:00:00Z", "value": 23.5, "unit": "degC"}',
    '{"ts":1782907200000,"value":"NaN"}',
    '{"ts":1782864001500.0,"value":-0,"unit":null}',
    '{"value":" 3.5 ","ts":"2026-07-01T00:00:01.5+02:00"}',
]
batches = [
    '[{"point":"hall-a/rack-0007/power_kw","ts":1782864001500,"value":41.25}]',
    '[{"point":"hall-a/rack-0007/power_kw","ts":1782864001500,"value":41.25},\n'
    ' { "value" : "NaN" , "unit" : "kW", "ts" : "2026-07-01T00:00:01.5Z", "point" : "b" },\n'
    ' {"point":"c","ts":-0,"value":-0,"unit":null}]',
    '[{"point":"a\\/b","ts":1,"value":1e-400},{"point":"c","ts":1.5e12,"value":123456789012345678901234567890}]',
    '[{"point":"a","ts":1,"value":1},{"point":"b","ts":"soon","value":2},{"ts":3,"value":3}]',
    " [ ] ",
]
for target in ["native", "native_diff"]:
    for i, s in enumerate(singles):
        write(target, f"single-{i}.json", s)
    for i, s in enumerate(batches):
        write(target, f"batch-{i}.json", s)

for i, s in enumerate([
    "cdu,hall=a,unit=03 supply_temp_f=77.2,flow_gpm=300 1782864001500000000\n",
    "hall-a/rack-0001 power_kw=7.5 1782864001500000000\n",
    '# comment\nweather,site=dfw1 temp_c=31.5,ok=t,state="on",count=3i,big=7u 1782864001\n\n'
    "cdu,hall=b,unit=01 flow_gpm=NaN\r\n",
    'my\\ measurement,tag\\,x=a\\=b field\\ one="a \\"quoted\\" string",f2=-1.5e3 -1000\n',
]):
    write("line_protocol", f"lp-{i}.txt", s)

for i, s in enumerate([
    '{"hours": 2, "events": [{"kind": "cdu_pump_trip", "at_s": 60, "hall": "hall-a", "cdu": 1}]}',
    '{"events": [{"kind": "import_limit_drop", "at_s": 0, "duration_s": 3600, "import_limit_kw": 80000},'
    ' {"kind": "chiller_trip", "at_s": 600, "chillers": 1}]}',
    '{"hours": 0.5, "events": [{"kind": "tower_fan_failure", "at_s": 10, "cells": 2},'
    ' {"kind": "load_change", "at_s": 5, "utilisation_factor": 1.5, "duration_s": 60}]}',
    "{}",
    '{"hours": null, "events": [{"kind": "cdu_pump_trip", "at_s": 1e3, "hall": "h", "cdu": 2,'
    ' "residual_flow_frac": 0.25}]}',
]):
    write("api_whatif", f"body-{i}.json", s)

write("price", "prices.csv", read("examples/prices.csv"))
write("price", "single.csv", "time,price_per_mwh\n2026-07-01T00:00:00Z,28.0\n2026-07-01T01:00:00Z,-3.5\n"
      '2026-07-01 02:00:00+00:00,"31"\n')
write("price", "gridstatus.csv", """interval_start_local,interval_start_utc,interval_end_local,interval_end_utc,market,location,location_type,lmp,energy,congestion,loss
2026-07-01 00:00:00-04:00,2026-07-01 04:00:00+00:00,2026-07-01 01:00:00-04:00,2026-07-01 05:00:00+00:00,DAY_AHEAD_HOURLY,DOM,ZONE,31.2,30.1,0.4,0.7
2026-07-01 01:00:00-04:00,2026-07-01 05:00:00+00:00,2026-07-01 02:00:00-04:00,2026-07-01 06:00:00+00:00,DAY_AHEAD_HOURLY,"DOM, zone",ZONE,29.8,29.0,0.2,0.6
""")
write("price", "two-scenarios.csv", "# probabilities: normal=0.6, spike=0.4\n"
      "time,price_per_mwh_normal,price_per_mwh_spike\n2026-07-01T00:00:00-05:00,28.0,30.8\n"
      "2026-07-01T00:15:00-05:00,26.0,28.6\n2026-07-01T01:00:00-05:00,26.0,128.6\n")

# Grid files of balancing authorities: heads of the shipped years (the PJM head holds its
# first lost hours, on the night of the spring clock change), one gzipped, and hand-made
# edge cases (a demand column, a carbon gap, an offset time, a lost hour).
for ba in ["PJM", "MISO", "ERCO"]:
    lines = gzip.decompress(read(f"examples/sites/grid/{ba}_2022_hourly.csv.gz")).split(b"\n")
    head = b"\n".join(lines[:49]) + b"\n"
    write("grid", f"{ba.lower()}-head48.csv", head)
    if ba == "PJM":
        write("grid", "pjm-clock-change.csv", b"\n".join(lines[:1] + lines[1705:1720]) + b"\n")
        write("grid", "pjm-head24.csv.gz", gzip.compress(b"\n".join(lines[:25]) + b"\n", mtime=0))
write("grid", "demand.csv", "time,demand_mw\n2022-03-13T06:00:00-05:00,500\n2022-03-13T07:00:00-05:00,510\n"
      "2022-03-13T08:00:00-05:00,\n2022-03-13T09:00:00-05:00,530\n")
write("grid", "carbon-gap.csv", "time,wind_mw,gas_mw,carbon_kg_per_mwh\n2022-01-01T00:00:00Z,10,90,300\n"
      "2022-01-01T01:00:00Z,20,90,\n2022-01-01T02:00:00Z,,0.0,\n2022-01-01T03:00:00Z,40,90,400\n")

# The weather forecast, service settings (the documented example, its simulator off), job
# lists and load forms.
write("weather_forecast", "example.csv", read("examples/weather-forecast.csv"))
doc = read("models/src/service.rs").decode()
example = doc[doc.index("//! ```toml") :].split("\n")[1:]
example = "\n".join(l[4:] if l.startswith("//! ") else l[3:] for l in example[: example.index("//! ```")])
write("service_config", "documented.toml", example.replace("enabled = true", "enabled = false"))
write("service_config", "empty.toml", "")
write("job_queue", "two-jobs.json", json.dumps([
    {"id": "pretrain-a", "gpus": 512, "work_gpu_hours": 2048, "release": "2026-07-01T00:00:00Z",
     "deadline": "2026-07-02T00:00:00Z", "unmet_penalty_per_gpu_hour": 4.0, "halls": ["hall-a"]},
    {"id": "finetune-b", "gpus": 64, "work_gpu_hours": 100.5, "release": "2026-07-01T06:00:00+02:00",
     "deadline": "2026-07-01T18:00:00Z", "unmet_penalty_per_gpu_hour": 1.5},
]))
for i, spec in enumerate(["constant:0.9", "constant:0.9:0.8", "diurnal:0.6:0.95", "diurnal:0.6:0.95:15",
                          "csv:load.csv", "training:6", "training:6:0.7"]):
    write("load_spec", f"spec-{i}.txt", spec)
# A forecast of one row: its span is that one instant (start equals end, both covered).
rows = read("examples/weather-forecast.csv").decode().split("\n")
head = [l for l in rows if l.startswith("#")]
data = [l for l in rows if l and not l.startswith("#")]
write("weather_forecast", "one-row.csv", "\n".join(head + data[:2]) + "\n")
