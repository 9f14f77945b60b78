#!/usr/bin/env bash
# The dashboard's first paint and its memory over time in headless Chromium, against a
# `campustwin serve` on its defaults started here (the release binary when built, else
# the debug one). Needs Chromium and `npm ci --prefix web/ui` (as .ci/run installs).
#   bench/dashboard/run.sh [LOADS] [MINUTES]     (defaults 20 and 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
loads="${1:-20}"
minutes="${2:-30}"
binary=target/release/campustwin
[ -x "$binary" ] || binary=target/debug/campustwin
out=bench/out/dashboard
mkdir -p "$out"
data="$(mktemp -d)"
port=18091
CAMPUSTWIN_API_TOKEN=bench-token "$binary" serve --data-dir "$data" --listen "127.0.0.1:$port" \
  --embedded-broker 127.0.0.1:18892 > "$out/serve.log" 2>&1 &
serve=$!
trap 'kill $serve 2>/dev/null; wait $serve 2>/dev/null; rm -rf "$data"' EXIT
until curl -sf "http://127.0.0.1:$port/readyz" > /dev/null; do sleep 0.5; done
echo "serve ready ($binary)"
node bench/dashboard/run.mjs "http://127.0.0.1:$port" --loads "$loads" --minutes "$minutes" --shots "$out" | tee "$out/result.txt"
