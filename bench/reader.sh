#!/usr/bin/env bash
# The reading-engine check (tests/reader/check.mjs) on the full-size synthetic corpus:
# generates it, builds its EPUB and reads every spine item in epub.js at 360x640 and
# 600x800, printing the summary and timings; the JSON report goes to bench/work/.
#   bash bench/reader.sh [--screenshots]   # screenshots to output/screenshots/synth/
# QUIRE_PROFILE=dev uses the debug build (default: release); QUIRE_ENGINE=foliate reads it in
# foliate-js (default: epub.js).
# Needs chromium and `npm ci` in tests/reader (as .ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
work=bench/work/reader
rm -rf "$work" && mkdir -p "$work"
extra=()
if [ "${1:-}" = "--screenshots" ]; then extra=(--screenshots output/screenshots/synth); fi
profile=${QUIRE_PROFILE:-release}
bin=target/$([ "$profile" = dev ] && echo debug || echo "$profile")
cargo build --profile "$profile" --bin quire --bin quire-synth
"$bin/quire-synth" --out "$work/synth" --seed 1
"$bin/quire" --content "$work/synth" --out "$work/out" --quiet build --epub
epub=$(ls "$work"/out/*.epub)
status=0
start=$SECONDS
node tests/reader/check.mjs "$epub" --sizes 360x640,600x800 --engine "${QUIRE_ENGINE:-epubjs}" "${extra[@]}" \
  > "$work/report.json" || status=$?
echo "checker: $((SECONDS - start)) s; report: $work/report.json (exit $status)"
exit "$status"
