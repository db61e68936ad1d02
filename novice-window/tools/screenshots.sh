#!/usr/bin/env bash
# Takes the screenshots in docs/ of every screen of the novice's window, from the demo's
# scenes, on an X display (needs imagemagick's `import` and xdotool).
#
#   Xvfb :77 -screen 0 1280x720x24 -noreset &
#   cargo build --release -p novice-window --example demo
#   DISPLAY=:77 novice-window/tools/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

DEMO=target/release/examples/demo
[ -n "${DISPLAY:-}" ] || { echo "set DISPLAY to an X display (e.g. Xvfb :77)" >&2; exit 1; }

# scene, language, file name
while read -r scene language name; do
  "$DEMO" "$scene" "--$language" >/dev/null 2>&1 &
  pid=$!
  window=""
  for _ in $(seq 1 200); do
    window=$(xdotool search --onlyvisible --pid "$pid" 2>/dev/null | head -n1) && [ -n "$window" ] && break
    sleep 0.05
  done
  [ -n "$window" ] || { echo "$scene: no window" >&2; kill "$pid"; exit 1; }
  sleep 1.5 # the pretend agent's first updates, and a few frames
  eval "$(xdotool getwindowgeometry --shell "$window")"
  import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "docs/novice-window-$name.png"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "docs/novice-window-$name.png"
done <<'SCENES'
ask en ask
ready en ready
invitations en invitations
see en see
offer en offer
control en control
watching en watching
controlling en controlling
paused en paused
ended en ended
see sv see-sv
controlling sv controlling-sv
ready sv ready-sv
SCENES
