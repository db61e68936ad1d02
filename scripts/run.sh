#!/usr/bin/env bash
# Runs the product on this machine: the signaling server and the agent, which opens the
# novice's window, creates an invitation and prints its link. Without a $DISPLAY it starts a
# virtual one (Xvfb) with a terminal on it, so there is a desktop to share, and the window on
# it. Requests are asked in the window and at this terminal alike: answer in either.
#
#   bash scripts/run.sh                      # invitation valid for 1 h, no password
#   bash scripts/run.sh --password           # with flags: `agent invite` at this terminal only
#                                            # (--password asks for one, unseen)
#
# Environment: ASSIST_LISTEN (default 127.0.0.1:8080), ASSIST_PUBLIC_URL (what the link starts
# with), ASSIST_DATA_DIR (default ./data), DATABASE_URL (default: SQLite in the data dir).
# Press Ctrl+C, type /quit or close the window to stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
echo "Building (the first build takes several minutes)..."
cargo build --release --locked -p signaling-server -p agent

LISTEN="${ASSIST_LISTEN:-127.0.0.1:8080}"
SERVER_URL="http://${LISTEN}"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

mkdir -p data
./target/release/signaling-server --listen "$LISTEN" >data/server.log 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  curl -fsS "${SERVER_URL}/health" >/dev/null 2>&1 && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "The signaling server did not start; its log follows." >&2
    cat data/server.log >&2
    exit 1
  fi
  sleep 0.2
done
echo "Signaling server on ${SERVER_URL} (log: data/server.log)"

if [ -z "${DISPLAY:-}" ]; then
  # Xvfb picks a free display number and prints it once it accepts clients.
  exec {displayfd}<> <(:)
  Xvfb -displayfd "$displayfd" -screen 0 1280x720x24 -nolisten tcp >data/xvfb.log 2>&1 &
  pids+=($!)
  read -r -t 30 -u "$displayfd" number
  export DISPLAY=":${number}"
  xsetroot -solid '#2f4f6f'
  xterm -geometry 100x30+40+40 -fa 'DejaVu Sans Mono' -fs 12 \
    -e bash -c 'echo "This is a virtual desktop on display $DISPLAY."; exec bash' &
  pids+=($!)
  echo "Started a virtual desktop on ${DISPLAY} (1280x720)"
fi

if [ "$#" -gt 0 ]; then
  ./target/release/agent --server "$SERVER_URL" --state-dir data/agent invite "$@"
else
  ./target/release/agent --server "$SERVER_URL" --state-dir data/agent window --invite
fi
