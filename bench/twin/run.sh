#!/usr/bin/env bash
# Speed of the physics twin, against the two targets of the twin's issue:
#   1. a 1 GW campus (8,000 NVL72-class racks) at rack resolution, 24 simulated hours
#      with a diurnal load and weather: >= 1,000x faster than real time on one core;
#   2. the example campus for a year at hall resolution with hourly steps: under 1 s.
# Each case runs N times (default 5) pinned to one core; the script prints medians of the
# process wall time (read, build, simulate, write) and of the simulation alone.
#
#   bench/twin/run.sh            # N=5
#   N=9 bench/twin/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-5}
OUT=bench/out/twin
mkdir -p "$OUT"
cargo build --release --quiet --bin campustwin
BIN=target/release/campustwin
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)

run_case() { # name, then the simulate arguments
  local name=$1; shift
  for i in $(seq 1 "$N"); do
    local t0 t1
    t0=$(date +%s.%N)
    "${PIN[@]}" "$BIN" simulate "$@" --summary "$OUT/$name-$i.json" 2>/dev/null
    t1=$(date +%s.%N)
    echo "$t0 $t1" > "$OUT/$name-$i.time"
  done
}

run_case gw-rack-24h --campus bench/twin/campus-1gw.toml --hours 24 --step-s 60 \
  --resolution rack --start 2026-07-15T04:00:00Z --load diurnal:0.6:0.95
run_case example-hall-year --hours 8760 --step-s 3600 --resolution hall \
  --start 2026-01-01T05:00:00Z --load diurnal:0.6:0.95

python3 - "$OUT" "$N" <<'PY'
import json, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
print(f"{'case':<20} {'process s':>10} {'simulate s':>11} {'x real time':>12} {'states':>7} {'steps':>7} {'rhs evals':>10}  (medians of {n})")
for case in ["gw-rack-24h", "example-hall-year"]:
    runs = []
    for i in range(1, n + 1):
        s = json.load(open(f"{out}/{case}-{i}.json"))
        t0, t1 = map(float, open(f"{out}/{case}-{i}.time").read().split())
        runs.append((t1 - t0, s))
    process = statistics.median(r[0] for r in runs)
    wall = statistics.median(r[1]["wall_s"] for r in runs)
    s = runs[0][1]
    print(f"{case:<20} {process:>10.3f} {wall:>11.3f} {s['simulated_s'] / wall:>12.0f} {s['state_len']:>7} "
          f"{s['integration']['steps']:>7} {s['integration']['rhs_evaluations']:>10}")
PY
