#!/usr/bin/env bash
# Installs the Debian packages the product and its tests need. Idempotent: does nothing when
# everything is present. Runs as root, or through sudo when available.
set -euo pipefail

PACKAGES=(
  # build: scrap (X11 capture), openh264 from source, enigo (XTest input)
  pkg-config cmake nasm libxcb1-dev libxcb-shm0-dev libxcb-randr0-dev libxdo-dev libxtst-dev libxi-dev
  # test desktop: virtual X server, X utilities, a terminal with a font
  xvfb x11-utils x11-xserver-utils xdotool xterm fonts-dejavu-core python3-tk xclip
  # the expert's browser in end-to-end tests
  chromium chromium-driver
  # NAT traversal tests: coturn (TURN server and client), network namespaces and a firewall
  coturn iproute2 iptables
  # a real SMTP server for the invitation e-mail tests
  python3-aiosmtpd
  # PostgreSQL client tools for database tests and diagnostics; curl for scripts/run.sh
  postgresql-client curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
