#!/usr/bin/env bash
# Copies the dashboard's browser dependency, as pinned in package-lock.json, from the npm
# registry into vendor/, which the web crate compiles into the binary: `cargo build` then
# needs neither npm nor a network. Run after changing a version in package.json
# (`npm install --ignore-scripts` updates the lock file); web's tests check that vendor/
# holds exactly what the lock file pins.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund
mkdir -p vendor
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css vendor/
cp node_modules/uplot/LICENSE vendor/uPlot.LICENSE
echo "vendor/: uPlot $(node -p "require('./node_modules/uplot/package.json').version")"
