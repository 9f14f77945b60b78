#!/usr/bin/env bash
# Ingest throughput and memory benchmark against a real Mosquitto on this machine.
#
#   bench/ingest/run.sh [--runs 3] [--readings 2000000] [--batch 100] [--durability full]
#                       [--soak-minutes 0] [--soak-rate 100000] [--soak-source sensors|gen]
#
# Each run starts a fresh Mosquitto on a free port and publishes the same pre-generated
# stream of native batch payloads (bench/ingest/gen.py, --batch readings per message) with
# `mosquitto_pub -l -q 1 -M 1000`:
#   - to a minimal consumer, `mosquitto_sub -q 1 -C <messages>` writing to /dev/null: its
#     rate is readings delivered / time from the first publish to its exit;
#   - to the release `campustwin ingest` with a fresh store: its rate is readings committed
#     / time from the first publish until the store counts every reading (the counter that
#     `campustwin store stats` reports, polled every 20 ms); no loss: the run fails unless
#     the store holds exactly the readings published.
# Medians of the runs are printed, with the ingest process's peak RSS.
# --soak-minutes M publishes at --soak-rate readings/s for M minutes and prints ingest's
# RSS and store rate every 30 s. The source is `campustwin sensors --rate` (the example
# campus's twin in real time, its interval shortened to reach the rate), or with
# --soak-source gen the paced generator piped into mosquitto_pub. With sensors, the run
# ends by checking that the store holds every reading the broker acknowledged.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

RUNS=3 READINGS=2000000 BATCH=100 DURABILITY=full SOAK_MIN=0 SOAK_RATE=100000 SOAK_SOURCE=sensors
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --readings) READINGS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --durability) DURABILITY=$2; shift 2 ;;
    --soak-minutes) SOAK_MIN=$2; shift 2 ;;
    --soak-rate) SOAK_RATE=$2; shift 2 ;;
    --soak-source) SOAK_SOURCE=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
LINES=$((READINGS / BATCH))
READINGS=$((LINES * BATCH))

for bin in mosquitto mosquitto_pub mosquitto_sub python3; do
  command -v "$bin" >/dev/null || [ -x "/usr/sbin/$bin" ] || { echo "missing $bin (apt-get install mosquitto mosquitto-clients python3)" >&2; exit 1; }
done
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release --bin campustwin >&2
BIN=$TARGET/release/campustwin

OUT=$ROOT/bench/out/ingest-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
echo "output: $OUT" >&2
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 not open" >&2; exit 1; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# The readings in a store (`campustwin store stats`).
stored() { "$BIN" store stats "$1" 2>/dev/null | sed -n 's/^ *"readings": *\([0-9]*\),*$/\1/p' | grep . || echo 0; }
# Waits until the store at $1 holds $2 readings and prints the time it saw them (epoch s),
# or fails after $3 s. One process polls the store's `readings` counter (what `store stats`
# reports) every 20 ms over one read connection: a `store stats` process per poll would
# cost each poll a process start, CPU taken from the cores that ingest and the broker share.
wait_stored() {
  python3 - "$@" <<'PY'
import sqlite3, sys, time
path, want, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.time() + limit
conn = sqlite3.connect(path, timeout=10)
n = 0
while time.time() < deadline:
    try:
        row = conn.execute("SELECT value FROM counters WHERE name = 'readings'").fetchone()
        n = row[0] if row else 0
    except sqlite3.OperationalError:  # the schema is not there yet
        n = 0
    if n >= want:
        print(f"{time.time():.3f}")
        sys.exit(0)
    time.sleep(0.02)
sys.exit(f"only {n} of {want} readings stored after {limit:.0f} s")
PY
}

start_mosquitto() { # dir -> sets MQ_PORT MQ_PID
  MQ_PORT=$(free_port)
  mkdir -p "$1"
  cat > "$1/mosquitto.conf" <<CONF
listener $MQ_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $1/
user root
max_queued_messages 0
max_inflight_messages 1000
log_dest file $1/mosquitto.log
CONF
  "$MOSQUITTO" -c "$1/mosquitto.conf" & MQ_PID=$!; PIDS+=("$MQ_PID")
  wait_port "$MQ_PORT"
}

start_ingest() { # dir -> sets IN_PID
  RUST_LOG=info "$BIN" ingest --broker "mqtt://127.0.0.1:$MQ_PORT" --store "$1/store.db" \
    --client-id bench-ingest --durability "$DURABILITY" > "$1/ingest.json" 2> "$1/ingest.log" &
  IN_PID=$!; PIDS+=("$IN_PID")
  for _ in $(seq 200); do grep -q "Subscribed." "$1/ingest.log" && return 0; sleep 0.05; done
  echo "ingest did not subscribe:" >&2; cat "$1/ingest.log" >&2; exit 1
}

echo "generating $READINGS readings ($LINES messages of $BATCH)" >&2
python3 bench/ingest/gen.py --lines "$LINES" --batch "$BATCH" --points $((BATCH * 10)) > "$OUT/load.txt"
ls -l "$OUT/load.txt" >&2

SUB_RATES=() INGEST_RATES=() PEAKS=()
for run in $(seq "$RUNS"); do
  # Minimal consumer.
  d=$OUT/run$run-sub; start_mosquitto "$d"
  mosquitto_sub -p "$MQ_PORT" -q 1 -t 'campustwin/#' -C "$LINES" > /dev/null & SUB=$!; PIDS+=("$SUB")
  sleep 0.5
  t0=$(now)
  mosquitto_pub -p "$MQ_PORT" -q 1 -M 1000 -t campustwin/bench/batch -l < "$OUT/load.txt"
  wait "$SUB"; t1=$(now)
  kill "$MQ_PID"; wait "$MQ_PID" 2>/dev/null || true
  SUB_RATES+=("$(python3 -c "print(round($READINGS/($t1-$t0)))")")

  # campustwin ingest.
  d=$OUT/run$run-ingest; start_mosquitto "$d"; start_ingest "$d"
  # The poller starts (and pays Python's start-up) before the clock does.
  wait_stored "$d/store.db" "$READINGS" 600 > "$d/stored-at" & POLL=$!
  sleep 0.5
  t0=$(now)
  mosquitto_pub -p "$MQ_PORT" -q 1 -M 1000 -t campustwin/bench/batch -l < "$OUT/load.txt" &
  PUB=$!
  wait "$POLL" || { echo "run $run failed" >&2; exit 1; }
  t1=$(cat "$d/stored-at")
  wait "$PUB"
  peak=$(hwm_kb "$IN_PID")
  kill -TERM "$IN_PID"; wait "$IN_PID" || true
  kill "$MQ_PID"; wait "$MQ_PID" 2>/dev/null || true
  n=$(stored "$d/store.db")
  [ "$n" -eq "$READINGS" ] || { echo "run $run: store holds $n readings, published $READINGS" >&2; exit 1; }
  INGEST_RATES+=("$(python3 -c "print(round($READINGS/($t1-$t0)))")")
  PEAKS+=("$peak")
  echo "run $run: minimal consumer ${SUB_RATES[-1]} readings/s, ingest ${INGEST_RATES[-1]} readings/s, ingest peak RSS ${peak} kB; $(cat "$d/ingest.json")" >&2
  rm -f "$d"/store.db*
done

python3 - "${SUB_RATES[*]}" "${INGEST_RATES[*]}" "${PEAKS[*]}" "$READINGS" "$BATCH" "$DURABILITY" <<'PY'
import json, statistics, sys
sub = [int(x) for x in sys.argv[1].split()]
ing = [int(x) for x in sys.argv[2].split()]
peaks = [int(x) for x in sys.argv[3].split()]
m_sub, m_ing = statistics.median(sub), statistics.median(ing)
print(json.dumps({
    "readings_per_run": int(sys.argv[4]), "batch": int(sys.argv[5]), "durability": sys.argv[6],
    "minimal_consumer_readings_per_s": sub, "ingest_readings_per_s": ing,
    "median_minimal_consumer_readings_per_s": m_sub, "median_ingest_readings_per_s": m_ing,
    "ingest_over_minimal_consumer": round(m_ing / m_sub, 3),
    "ingest_peak_rss_kb": peaks,
}))
PY

if [ "$SOAK_MIN" -gt 0 ]; then
  d=$OUT/soak; start_mosquitto "$d"; start_ingest "$d"
  if [ "$SOAK_SOURCE" = sensors ]; then
    "$BIN" sensors --broker "mqtt://127.0.0.1:$MQ_PORT" --rate "$SOAK_RATE" --batch "$BATCH" \
      --duration-s $((SOAK_MIN * 60)) --client-id bench-sensors > "$d/sensors.json" 2> "$d/sensors.log" &
  else
    python3 bench/ingest/gen.py --lines 0 --batch "$BATCH" --points $((BATCH * 10)) --rate "$SOAK_RATE" \
      | mosquitto_pub -p "$MQ_PORT" -q 1 -M 1000 -t campustwin/bench/batch -l &
  fi
  GEN=$!; PIDS+=("$GEN")
  echo "soak: $SOAK_RATE readings/s for $SOAK_MIN min; every 30 s: elapsed_s, ingest RSS kB, readings stored, store rate/s" >&2
  last=0 start=$(date +%s) t_last=$start
  while [ $(( $(date +%s) - start )) -lt $((SOAK_MIN * 60)) ]; do
    sleep 30
    n=$(stored "$d/store.db"); t=$(date +%s)
    echo "soak $(( t - start )) s: rss_kb=$(rss_kb "$IN_PID") stored=$n rate_per_s=$(( (n - last) / (t - t_last) )) mean_rate_per_s=$(( n / (t - start) ))"
    last=$n t_last=$t
  done
  if [ "$SOAK_SOURCE" = sensors ]; then
    wait "$GEN" || { echo "sensors failed:" >&2; cat "$d/sensors.log" >&2; exit 1; }
    published=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["published"])' "$d/sensors.json")
    wait_stored "$d/store.db" "$published" 60 > /dev/null || true
    echo "sensors: $(cat "$d/sensors.json")"
  else
    kill "$GEN" 2>/dev/null || true
  fi
  echo "soak peak RSS kB: $(hwm_kb "$IN_PID")"
  kill -TERM "$IN_PID"; wait "$IN_PID" || true
  tail -n 1 "$d/ingest.json"
  if [ "$SOAK_SOURCE" = sensors ]; then
    n=$(stored "$d/store.db")
    [ "$n" -eq "$published" ] || { echo "soak: store holds $n readings, the broker acknowledged $published" >&2; exit 1; }
    echo "soak: store holds every acknowledged reading ($n)"
  fi
  rm -f "$d"/store.db*
fi
