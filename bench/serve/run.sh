#!/usr/bin/env bash
# Benchmark of `campustwin serve` on this machine, release build, example campus:
#   1. time from start to ready (/readyz 200: intake connected, first forecast issued);
#   2. forecast cycles on request (POST /forecast/run), each one's time and where it went
#      (the twin's capacities, the solve, the twin's simulation of the plan), medians;
#   3. GET /api/v1/state and /api/v1/forecast at about 2,000 requests/s (wrk, 23
#      connections each pausing 10 ms between requests) for --seconds while
#      `campustwin sensors --rate 100000` publishes into the service's broker: wrk's
#      latency percentiles and errors, and readings committed against readings published;
#   4. with --soak-minutes M: the service's RSS every 30 s for M minutes after the load
#      (give FORECAST_EVERY=5m for the default forecast period; the benchmark's is 1h so
#      that no scheduled cycle falls into the timings).
#
#   bench/serve/run.sh [--cycles 5] [--seconds 30] [--rate 100000] [--soak-minutes 0]
set -euo pipefail
cd "$(dirname "$0")/../.."
CYCLES=5 SECONDS_LOAD=30 RATE=100000 SOAK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cycles) CYCLES=$2; shift 2 ;;
    --seconds) SECONDS_LOAD=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --soak-minutes) SOAK=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 2; }
cargo build --release --quiet --bin campustwin
bin=${CARGO_TARGET_DIR:-target}/release/campustwin
out=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); broker=$(free_port)
api=http://127.0.0.1:$port
export CAMPUSTWIN_API_TOKEN=bench-token
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT

start=$(date +%s.%N)
RUST_LOG=info "$bin" serve --data-dir "$out/data" --listen 127.0.0.1:$port \
  --embedded-broker 127.0.0.1:$broker --forecast-every "${FORECAST_EVERY:-1h}" 2> "$out/serve.log" &
pid=$!
until curl -sf "$api/readyz" >/dev/null; do sleep 0.05; done
ready=$(echo "$(date +%s.%N) - $start" | bc)
printf 'ready after %.2f s (%s)\n' "$ready" "$(grep -o 'Forecast issued.*' "$out/serve.log" | head -1)"

# 2. Forecast cycles on request.
for _ in $(seq "$CYCLES"); do
  last=$(curl -s "$api/api/v1/forecast" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  t0=$(date +%s.%N)
  curl -sf -X POST -H "Authorization: Bearer $CAMPUSTWIN_API_TOKEN" "$api/api/v1/forecast/run" >/dev/null
  until [ "$(curl -s "$api/api/v1/forecast" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" -gt "$last" ]; do sleep 0.02; done
  wall=$(echo "$(date +%s.%N) - $t0" | bc)
  curl -s "$api/api/v1/forecast" | python3 -c "
import json,sys; i=json.load(sys.stdin)['inputs']
print(f\"cycle {float('$wall'):.2f} s (request to served): capacities {i['capacity_s']:.2f} s, solve {i['solve_s']:.2f} s ({i['plan_status']}), simulate {i['simulate_s']:.2f} s\")"
done | tee "$out/cycles.txt"
python3 - "$out/cycles.txt" <<'PY'
import re, statistics, sys
rows = [list(map(float, re.findall(r"([0-9.]+) s", l))) for l in open(sys.argv[1])]
names = ["cycle", "capacities", "solve", "simulate"]
print("median: " + ", ".join(f"{n} {statistics.median(r[i] for r in rows):.2f} s" for i, n in enumerate(names)))
PY

# 3. The API at 2,000 requests/s while 100,000 readings/s come in.
before=$(curl -s "$api/metrics" | awk '/^campustwin_intake_readings_total /{print $2}')
"$bin" sensors --broker mqtt://127.0.0.1:$broker --rate "$RATE" --duration-s $((2 * SECONDS_LOAD + 10)) \
  --site bench > "$out/sensors.json" 2> "$out/sensors.log" &
spid=$!
sleep 5
cat > "$out/paced.lua" <<'LUA'
function delay() return 10 end
LUA
for path in /api/v1/state /api/v1/forecast; do
  echo "GET $path, 23 connections pacing 10 ms, $SECONDS_LOAD s:"
  wrk -t2 -c23 -d"${SECONDS_LOAD}s" --latency -s "$out/paced.lua" "$api$path" | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors|requests in"
done
wait $spid
t_end=$(date +%s.%N)
# The intake catches up with what the broker still holds: wait until its count grows
# only by the built-in plant's readings (< 1,000 in a second).
after=0
while :; do
  now=$(curl -s "$api/metrics" | awk '/^campustwin_intake_readings_total /{print $2}')
  [ $((now - after)) -lt 1000 ] && break
  after=$now; sleep 1
done
printf 'intake caught up %.1f s after the load ended\n' "$(echo "$(date +%s.%N) - $t_end" | bc)"
echo "readings committed from the load's start until caught up (with the built-in plant's ~400/s): $(echo "$after - $before" | bc)"
echo "the load generator's report: $(cat "$out/sensors.json")"

# 4. Memory over a soak on the defaults.
if [ "$SOAK" -gt 0 ]; then
  for i in $(seq 0 $((SOAK * 2))); do
    echo "$((i * 30)) s: RSS $(awk '/VmRSS/{print $2}' /proc/$pid/status) kB"
    [ "$i" -lt $((SOAK * 2)) ] && sleep 30
  done
fi
kill -TERM $pid; wait $pid || true
