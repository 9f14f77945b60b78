#!/usr/bin/env bash
# Benchmark of `campustwin optimize` against the same LP built with linopy and solved with
# HiGHS from Python (bench/optimizer/linopy_baseline.py), on the same problem files, in
# the same run. Prints, per instance and solver setting, the median end-to-end seconds
# (read, build, solve, write) of each and both objectives.
#
#   bench/optimizer/run.sh [REPS] [INSTANCES...]
#
# INSTANCES among small medium large, jobsN (the medium example with N jobs: 4 halls,
# 96 slots) and volN (the same in the volatile market); default "jobs100 jobs400
# jobs1000"; REPS default 5. Each side reports the median and the worst of its runs and
# how many failed (no plan); a failed run does not stop the benchmark.
# SETTINGS (env) lists HiGHS settings to run, default "choose ipm-no-crossover". Each is
# given to both sides, except "auto": the Rust side's own choice (its default: HiPO from
# 100,000 nonzeros, else the dual simplex) against linopy on HiGHS's defaults, as a linopy
# user runs it. The baseline runs highspy 1.16.0, the HiGHS the Rust side builds; "hipo" on the Python side would need highspy-extras, which has no 1.16 release.
set -uo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-5}
shift || true
instances=("${@:-jobs100 jobs400 jobs1000}")
read -r -a instances <<< "${instances[*]}"
read -r -a settings <<< "${SETTINGS:-auto}"
out=bench/out
mkdir -p "$out"

cargo build --release --quiet --bin campustwin
bin=${CARGO_TARGET_DIR:-target}/release/campustwin
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet linopy==0.10.1 highspy==1.16.0
fi
py=bench/.venv/bin/python

for name in "${instances[@]}"; do
  case $name in
    jobs*) "$bin" optimize --example medium --jobs "${name#jobs}" --halls 4 --slots 96 --out "$out/$name.json" 2>/dev/null ;;
    vol*) "$bin" optimize --example medium --market volatile --jobs "${name#vol}" --halls 4 --slots 96 --out "$out/$name.json" 2>/dev/null ;;
    *) "$bin" optimize --example "$name" --out "$out/$name.json" 2>/dev/null ;;
  esac
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
worst() { sort -g | tail -n 1; }

# Runs "$@" REPS times (at most once more after a timeout): one line of seconds per run
# in $1.times, the number of failed runs in $1.failed.
timed_runs() {
  local tag=$1; shift
  : > "$out/$tag.times"; echo 0 > "$out/$tag.failed"
  for _ in $(seq "$reps"); do
    local start end
    start=$(date +%s.%N)
    if ! "$@" > "$out/$tag.line" 2> "$out/$tag.log"; then
      echo $(( $(cat "$out/$tag.failed") + 1 )) > "$out/$tag.failed"
    fi
    end=$(date +%s.%N)
    python3 -c "print($end - $start)" >> "$out/$tag.times"
    # A baseline run stopped by PY_TIMEOUT is not repeated.
    [ "$tag" = py ] && [ "$(cat "$out/py.failed")" != 0 ] && break
  done
}

printf "%-9s %-9s %-5s %9s %9s %5s %10s %10s %5s %8s %18s %18s %9s\n" instance setting merge rust_med rust_max fail linopy_med linopy_max fail speedup rust_objective linopy_objective rel_diff
for name in "${instances[@]}"; do
  for setting in "${settings[@]}"; do
    py_opts=()
    case $setting in
      simplex) py_opts=(--option solver=simplex) ;;
      ipm) py_opts=(--option solver=ipm) ;;
      ipm-no-crossover) py_opts=(--option solver=ipm --option run_crossover=off) ;;
      hipo) py_opts=(--option solver=hipo) ;;
      choose | auto) py_opts=() ;;
    esac
    # MERGES (env): "on" (default), "on off", or "off".
    for merge in ${MERGES:-on}; do
      flags=(--method "$setting")
      [ "$merge" = off ] && flags+=(--no-merge)
      timed_runs rust "$bin" optimize "$out/$name.json" --out "$out/$name.plan.json" "${flags[@]}"
      rust_obj=$(python3 -c "import json;print(json.load(open('$out/$name.plan.json')).get('objective', 'nan'))" 2>/dev/null || echo nan)
      if [ "$merge" = on ] && [ -z "${NO_BASELINE:-}" ]; then
        # PY_TIMEOUT (env, seconds) stops a baseline run that would take hours.
        timed_runs py ${PY_TIMEOUT:+timeout $PY_TIMEOUT} $py bench/optimizer/linopy_baseline.py "$out/$name.json" "$out/$name.linopy.json" "${py_opts[@]}"
        py_obj=$(tail -n 1 "$out/py.line" | python3 -c "import json,sys;print(json.loads(sys.stdin.read())['objective'])" 2>/dev/null || echo nan)
      elif [ -n "${NO_BASELINE:-}" ]; then
        echo nan > "$out/py.times"; echo 0 > "$out/py.failed"; py_obj=nan
      fi
      python3 - "$name" "$setting" "$merge" "$(median < "$out/rust.times")" "$(worst < "$out/rust.times")" "$(cat "$out/rust.failed")" \
        "$(median < "$out/py.times")" "$(worst < "$out/py.times")" "$(cat "$out/py.failed")" "$rust_obj" "$py_obj" <<'PY'
import sys
name, setting, merge, rm, rw, rf, pm, pw, pf, ro, po = sys.argv[1:]
rm, rw, pm, pw, ro, po = map(float, (rm, rw, pm, pw, ro, po))
# A stopped baseline gives lower bounds: its time and the speed-up are at least these.
at_least = ">" if pf != "0" else " "
diff = abs(ro - po) / max(1, abs(po))
print(f"{name:<9} {setting:<9} {merge:<5} {rm:9.2f} {rw:9.2f} {rf:>5} {at_least}{pm:9.2f} {pw:10.2f} {pf:>5} {at_least}{pm/rm:6.1f}x {ro:18.6f} {po:18.6f} {diff:9.1e}")
PY
    done
  done
done
