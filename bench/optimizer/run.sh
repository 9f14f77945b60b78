#!/usr/bin/env bash
# Benchmark of `campustwin optimize` against the same LP built with linopy and solved with
# HiGHS from Python (bench/optimizer/linopy_baseline.py), on the same problem files, in
# the same run. Prints, per instance and solver setting, the median end-to-end seconds
# (read, build, solve, write) of each and both objectives.
#
#   bench/optimizer/run.sh [REPS] [INSTANCES...]
#
# INSTANCES among small medium large jobs1000 (default: all four); REPS default 3.
# SETTINGS (env) lists HiGHS settings to run, default "choose ipm-no-crossover". Each is
# given to both sides, except "auto": the Rust side's own choice (its default: HiPO from
# 100,000 nonzeros, else the dual simplex) against linopy on HiGHS's defaults, as a linopy
# user runs it. "hipo" needs highspy-extras on the Python side (installed below).
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-3}
shift || true
instances=("${@:-small medium large jobs1000}")
read -r -a instances <<< "${instances[*]}"
read -r -a settings <<< "${SETTINGS:-choose ipm-no-crossover}"
out=bench/out
mkdir -p "$out"

cargo build --release --quiet --bin campustwin
bin=${CARGO_TARGET_DIR:-target}/release/campustwin
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet linopy==0.10.1 highspy==1.15.1 highspy-extras==1.15.1
fi
py=bench/.venv/bin/python

for name in "${instances[@]}"; do
  case $name in
    jobs1000) "$bin" optimize --example medium --jobs 1000 --halls 4 --slots 96 --out "$out/$name.json" 2>/dev/null ;;
    *) "$bin" optimize --example "$name" --out "$out/$name.json" 2>/dev/null ;;
  esac
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf "%-9s %-17s %-6s %10s %10s %8s %18s %18s %9s\n" instance setting merge rust_s linopy_s speedup rust_objective linopy_objective rel_diff
for name in "${instances[@]}"; do
  for setting in "${settings[@]}"; do
    py_opts=()
    case $setting in
      simplex) py_opts=(--option solver=simplex) ;;
      ipm) py_opts=(--option solver=ipm) ;;
      ipm-no-crossover) py_opts=(--option solver=ipm --option run_crossover=off) ;;
      hipo) py_opts=(--option solver=hipo --option run_crossover=off) ;;
      choose | auto) py_opts=() ;;
    esac
    # MERGES (env): "on off" (default), or one of them.
    for merge in ${MERGES:-on off}; do
      flags=(--method "$setting")
      [ "$merge" = off ] && flags+=(--no-merge)
      : > "$out/rust.times"
      for _ in $(seq "$reps"); do
        start=$(date +%s.%N)
        "$bin" optimize "$out/$name.json" --out "$out/$name.plan.json" "${flags[@]}" 2>"$out/rust.log"
        end=$(date +%s.%N)
        python3 -c "print($end - $start)" >> "$out/rust.times"
      done
      rust_obj=$(python3 -c "import json;print(json.load(open('$out/$name.plan.json'))['objective'])")
      rust_s=$(median < "$out/rust.times")
      if [ "$merge" = on ]; then
        : > "$out/py.times"
        py_stopped=0
        for _ in $(seq "$reps"); do
          start=$(date +%s.%N)
          # PY_TIMEOUT (env, seconds) stops a baseline run that would take hours.
          ${PY_TIMEOUT:+timeout $PY_TIMEOUT} $py bench/optimizer/linopy_baseline.py "$out/$name.json" "$out/$name.linopy.json" "${py_opts[@]}" > "$out/py.line" 2>"$out/py.log" || py_stopped=1
          end=$(date +%s.%N)
          python3 -c "print($end - $start)" >> "$out/py.times"
          [ "$py_stopped" = 1 ] && break
        done
        if [ "$py_stopped" = 1 ]; then
          echo "linopy on $name ($setting) stopped after ${PY_TIMEOUT:-?} s or failed: see $out/py.log" >&2
          py_obj=nan
        else
          py_obj=$(tail -n 1 "$out/py.line" | python3 -c "import json,sys;print(json.loads(sys.stdin.read())['objective'])")
        fi
        py_s=$(median < "$out/py.times")
      fi
      python3 - "$name" "$setting" "$merge" "$rust_s" "$py_s" "$rust_obj" "$py_obj" "$py_stopped" <<'PY'
import sys
name, setting, merge, rs, ps, ro, po, stopped = sys.argv[1:]
rs, ps, ro, po = map(float, (rs, ps, ro, po))
# A stopped baseline gives lower bounds: its time and the speed-up are at least these.
at_least = ">" if stopped == "1" else " "
print(f"{name:<9} {setting:<17} {merge:<6} {rs:10.3f} {at_least}{ps:9.3f} {at_least}{ps/rs:6.1f}x {ro:18.6f} {po:18.6f} {abs(ro-po)/max(1,abs(po)):9.1e}")
PY
    done
  done
done
