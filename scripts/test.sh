#!/usr/bin/env bash
# Runs every check and test: formatting, lints, unit tests, the server against SQLite and
# PostgreSQL, and the end-to-end tests with real Xvfb and headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# The database tests need the PostgreSQL on 127.0.0.1:5432; start the local cluster if it is down.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The console's JavaScript modules, with Node's own test runner. A failure here still lets the
# Rust tests run, as --no-fail-fast does for them; the script then exits with it.
node_status=0
node --test web/tests/*.test.mjs || node_status=$?

cargo test --workspace --locked --no-fail-fast
exit "$node_status"
