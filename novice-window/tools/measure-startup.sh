#!/usr/bin/env bash
# Measures the demo window's start-up on an X display: the time from starting the program to
# its window becoming visible (eframe keeps the window hidden until its first frame is painted,
# so that is the time to the first frame), and its resident memory once it has settled.
#
#   Xvfb :77 -screen 0 1280x720x24 -noreset &
#   cargo build --release -p novice-window --example demo
#   DISPLAY=:77 novice-window/tools/measure-startup.sh [RUNS] [SCENE]
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS="${1:-5}"
SCENE="${2:-ready}"
DEMO=target/release/examples/demo
TITLE="Remote Assistance"
[ -x "$DEMO" ] || { echo "build it first: cargo build --release -p novice-window --example demo" >&2; exit 1; }
[ -n "${DISPLAY:-}" ] || { echo "set DISPLAY to an X display (e.g. Xvfb :77)" >&2; exit 1; }

for run in $(seq 1 "$RUNS"); do
  start=$(date +%s%N)
  LANG=en_GB.UTF-8 "$DEMO" "$SCENE" >/dev/null 2>&1 &
  pid=$!
  until xdotool search --onlyvisible --name "^$TITLE\$" >/dev/null 2>&1; do
    sleep 0.005
    if [ $(( $(date +%s%N) - start )) -gt 30000000000 ]; then
      echo "run $run: no window within 30 s" >&2; kill "$pid"; exit 1
    fi
  done
  visible=$(date +%s%N)
  sleep 3
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf 'run %d: first frame after %d ms, RSS %d MiB (peak %d MiB)\n' \
    "$run" $(( (visible - start) / 1000000 )) $(( rss / 1024 )) $(( peak / 1024 ))
done
