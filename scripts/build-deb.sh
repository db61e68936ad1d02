#!/usr/bin/env bash
# Builds the Debian package of the agent, for the novice to install:
#   target/debian/remote-assistance_<version>_<arch>.deb
# with the agent as /usr/bin/remote-assistance, its desktop menu entry ("Remote Assistance",
# "Fjärrhjälp" in Swedish), its icon and the file type of the invitations it saves. Everything
# but the binary comes from packaging/deb/. Plain dpkg-deb from a staged tree: nothing to install
# beyond dpkg (dpkg-dev's dpkg-shlibdeps computes Depends when present, else ldd and dpkg -S do).
#
#   bash scripts/build-deb.sh                  # cargo build --release --locked -p agent, then package
#   bash scripts/build-deb.sh --reuse-binary   # package target/release/agent as it is
#   bash scripts/build-deb.sh --binary PATH    # package this agent binary (the tests' debug one)
#
# Environment: CARGO_TARGET_DIR (where the agent is built, default ./target), ASSIST_DEB_OUT_DIR
# (where the .deb goes, default <target>/debian), ASSIST_DEB_REUSE_BINARY=1 (as --reuse-binary),
# DEB_MAINTAINER (the Maintainer field).
# Prints the path of the .deb and its size, and the size it takes once installed.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SRC="$ROOT/packaging/deb"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
OUT_DIR="${ASSIST_DEB_OUT_DIR:-$TARGET_DIR/debian}"
REUSE="${ASSIST_DEB_REUSE_BINARY:-0}"
MAINTAINER="${DEB_MAINTAINER:-Remote Assistance maintainers <maintainers@remote-assistance.invalid>}"

BINARY="$TARGET_DIR/release/agent"
while [ $# -gt 0 ]; do
  arg=$1
  shift
  case "$arg" in
    --reuse-binary) REUSE=1 ;;
    --binary)
      [ $# -gt 0 ] || { echo "build-deb.sh: --binary needs a path" >&2; exit 2; }
      BINARY=$1
      REUSE=1
      shift
      ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build-deb.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

command -v dpkg-deb >/dev/null || { echo "build-deb.sh: dpkg-deb is missing (package dpkg)" >&2; exit 1; }

if [ "$REUSE" = 1 ]; then
  [ -x "$BINARY" ] || { echo "build-deb.sh: no $BINARY to reuse; run without --reuse-binary" >&2; exit 1; }
else
  cargo build --release --locked -p agent >&2
fi

# The agent's version is the workspace's: agent/Cargo.toml says `version.workspace = true`.
PKGID=$(cargo pkgid --locked -p agent)
VERSION="${PKGID##*[#@]}"
ARCH=$(dpkg --print-architecture)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/remote-assistance"

install -D -m 0755 "$BINARY" "$STAGE/usr/bin/remote-assistance"
# The release profile keeps line tables for profiling; an installed program needs none of them.
if command -v strip >/dev/null; then
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$STAGE/usr/bin/remote-assistance"
fi
install -D -m 0644 "$SRC/remote-assistance.desktop" "$STAGE/usr/share/applications/remote-assistance.desktop"
install -D -m 0644 "$SRC/remote-assistance.svg" "$STAGE/usr/share/icons/hicolor/scalable/apps/remote-assistance.svg"
install -D -m 0644 "$SRC/remote-assistance.xml" "$STAGE/usr/share/mime/packages/remote-assistance.xml"
install -D -m 0644 "$SRC/copyright" "$STAGE/usr/share/doc/remote-assistance/copyright"

# A bitmap for menus that draw no SVG, when this machine has something to render it with.
PNG="$STAGE/usr/share/icons/hicolor/48x48/apps/remote-assistance.png"
mkdir -p "$(dirname "$PNG")"
if command -v rsvg-convert >/dev/null; then
  rsvg-convert -w 48 -h 48 -o "$PNG" "$SRC/remote-assistance.svg"
elif command -v inkscape >/dev/null; then
  inkscape -w 48 -h 48 -o "$PNG" "$SRC/remote-assistance.svg" 2>/dev/null
fi
if [ -s "$PNG" ]; then
  chmod 0644 "$PNG"
else
  rm -rf "$STAGE/usr/share/icons/hicolor/48x48"
  echo "build-deb.sh: no SVG renderer (rsvg-convert, inkscape): the icon is SVG only" >&2
fi

# Depends: the shared libraries the binary links, by the packages that hold them, plus the
# OpenGL and EGL libraries the novice's window loads at run time (no ldd sees those).
if command -v dpkg-shlibdeps >/dev/null; then
  # dpkg-shlibdeps wants a debian/control to read; a minimal one does.
  mkdir -p "$WORK/debian"
  printf 'Source: remote-assistance\n\nPackage: remote-assistance\nArchitecture: any\n' > "$WORK/debian/control"
  SHLIBS=$(cd "$WORK" && dpkg-shlibdeps -O -e"$STAGE/usr/bin/remote-assistance" 2>/dev/null)
  SHLIBS="${SHLIBS#shlibs:Depends=}"
else
  SHLIBS=$(ldd "$STAGE/usr/bin/remote-assistance" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' \
    | xargs -r dpkg -S 2>/dev/null | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')
fi
DEPENDS="$SHLIBS"
for extra in libgl1 libegl1; do
  case ", $DEPENDS," in *", $extra "* | *", $extra,"*) ;; *) DEPENDS="${DEPENDS:+$DEPENDS, }$extra" ;; esac
done

INSTALLED_KIB=$(du -sk "$STAGE/usr" | cut -f1)
mkdir -p "$STAGE/DEBIAN"
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
  -e "s|@INSTALLED_SIZE@|$INSTALLED_KIB|" -e "s|@DEPENDS@|$DEPENDS|" \
  "$SRC/control.in" > "$STAGE/DEBIAN/control"
install -m 0755 "$SRC/postinst" "$SRC/postrm" "$STAGE/DEBIAN/"

mkdir -p "$OUT_DIR"
DEB="$OUT_DIR/remote-assistance_${VERSION}_${ARCH}.deb"
dpkg-deb --build --root-owner-group "$STAGE" "$DEB" >/dev/null

BYTES=$(stat -c %s "$DEB")
echo "Built $DEB"
echo "Size: $BYTES bytes ($(numfmt --to=iec-i --suffix=B "$BYTES")); installed: $INSTALLED_KIB KiB"
echo "Depends: $DEPENDS"
