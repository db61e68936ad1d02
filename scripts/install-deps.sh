#!/usr/bin/env bash
# Installs the Debian packages the product and its tests need. Idempotent: does nothing when
# everything is present. Runs as root, or through sudo when available.
set -euo pipefail

PACKAGES=(
  # build: scrap (X11 capture), openh264 from source, enigo (XTest input), libvpx (VP8)
  pkg-config cmake nasm libxcb1-dev libxcb-shm0-dev libxcb-randr0-dev libxdo-dev libxtst-dev libxi-dev libvpx-dev
  # build: the novice's window (eframe asks pkg-config for wayland-client even for X11 only);
  # run: Mesa's software OpenGL and EGL, to open it on Xvfb
  libwayland-dev libxkbcommon-dev libgl1-mesa-dri libegl1
  # test desktop: virtual X server, X utilities, a terminal with a font
  xvfb x11-utils x11-xserver-utils xdotool xterm fonts-dejavu-core python3-tk xclip
  # the expert's browser in end-to-end tests
  chromium chromium-driver firefox-esr
  # Firefox decodes WebRTC H.264 with the system's libavcodec, which it only recommends
  libavcodec59
  # NAT traversal tests: coturn (TURN server and client), network namespaces and a firewall
  coturn iproute2 iptables
  # a real SMTP server for the invitation e-mail tests
  python3-aiosmtpd
  # PostgreSQL client tools for database tests and diagnostics; curl for scripts/run.sh
  postgresql-client curl
  # the .deb package test checks its desktop menu entry with desktop-file-validate
  desktop-file-utils
  # a virtual environment for the OpenAPI fuzzer (below)
  python3-venv
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js runs the console's JavaScript tests (web/tests/) and plays the expert's browser in
# pake/tests/; a node already on the machine is kept, whatever its origin.
if ! command -v node >/dev/null; then
  echo "Installing nodejs"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs
fi

# schemathesis, the OpenAPI fuzzer that signaling-server/tests/openapi_document_holds_under_fuzzing.rs
# runs against a real server, in a virtual environment of its own and pinned to one version.
# ASSIST_FUZZ_VENV moves it; the test looks in the same place.
SCHEMATHESIS_VERSION=4.32.5
VENV="${ASSIST_FUZZ_VENV:-/opt/remote-assist-venv}"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  echo "Installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  $SUDO /usr/bin/python3 -m venv "$VENV"
  $SUDO "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
