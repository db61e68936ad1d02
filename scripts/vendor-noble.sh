#!/usr/bin/env bash
# Vendors the parts of @noble/curves and @noble/hashes that web/static/js/pake.js imports, as
# plain ES modules under web/static/js/vendor/, so that the console loads them with no build step
# and no import map. Reproducible: pinned versions, checked against the tarballs' integrity, and
# web/static/js/vendor/README.md lists what was copied with each file's SHA-256.
#
#   bash scripts/vendor-noble.sh        # needs node and npm; changes nothing else in the tree
#
# What it does: installs both packages into a temporary directory, follows the static imports of
# the entry modules (P-256 from nist.js; SHA-2, HMAC and HKDF from @noble/hashes), copies exactly
# those files with the packages' LICENSE, and rewrites each bare "@noble/hashes/..." import to a
# relative path. Nothing else in the files is changed.
set -euo pipefail
cd "$(dirname "$0")/.."

CURVES_VERSION=2.4.0
HASHES_VERSION=2.4.0
# The registry's integrity of the two tarballs: a new version is a deliberate change here.
CURVES_INTEGRITY="sha512-P4/62zrgfH33CneE3Dn4WhJVA22YUU0eR51wKIan4NVRvwsA0YnPTwWGpNbpuacSujmSFLvyzpyuR30+fbq2Ew=="
HASHES_INTEGRITY="sha512-X5XaVWZIBCT7HHZGm5I7ZQXDwLG+bGXuSrMQAW+7Zvl87h1kmc1ZB1VSRJcpUfoUrGQp4Fkoxm5kZ+Ms+aW+eA=="

DEST=web/static/js/vendor
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "Installing @noble/curves@$CURVES_VERSION and @noble/hashes@$HASHES_VERSION"
npm install --prefix "$WORK" --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
  "@noble/curves@$CURVES_VERSION" "@noble/hashes@$HASHES_VERSION" >/dev/null

# The installed tree must be exactly the pinned tarballs (curves depends on hashes by exact version).
WORK="$WORK" CURVES_INTEGRITY="$CURVES_INTEGRITY" HASHES_INTEGRITY="$HASHES_INTEGRITY" node <<'JS'
const fs = require("node:fs");
const lock = JSON.parse(fs.readFileSync(`${process.env.WORK}/node_modules/.package-lock.json`, "utf8"));
const want = {
  "node_modules/@noble/curves": process.env.CURVES_INTEGRITY,
  "node_modules/@noble/hashes": process.env.HASHES_INTEGRITY,
};
for (const [path, integrity] of Object.entries(want)) {
  const got = lock.packages[path]?.integrity;
  if (got !== integrity) {
    console.error(`${path}: integrity ${got}, expected ${integrity}`);
    process.exit(1);
  }
}
const extra = Object.keys(lock.packages).filter((p) => p.startsWith("node_modules/") && !(p in want));
if (extra.length > 0) {
  console.error(`unexpected packages: ${extra.join(", ")}`);
  process.exit(1);
}
JS

rm -rf "$DEST/noble-curves" "$DEST/noble-hashes"
mkdir -p "$DEST"

WORK="$WORK" DEST="$DEST" node <<'JS'
const fs = require("node:fs");
const path = require("node:path");

const sources = {
  "noble-curves": path.join(process.env.WORK, "node_modules/@noble/curves"),
  "noble-hashes": path.join(process.env.WORK, "node_modules/@noble/hashes"),
};
const entries = [
  "noble-curves/nist.js",
  "noble-hashes/sha2.js",
  "noble-hashes/hmac.js",
  "noble-hashes/hkdf.js",
];
// Static import and export-from statements, each starting a line; comments with example code
// inside them start with " *" and are left alone.
const statement = /^(import|export)\b[^;]*?\bfrom\s*(["'])([^"']+)\2|^import\s*(["'])([^"']+)\4/gm;

function resolve(from, specifier) {
  if (specifier.startsWith("@noble/hashes/")) {
    return "noble-hashes/" + specifier.slice("@noble/hashes/".length);
  }
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  }
  throw new Error(`${from}: cannot vendor the import of ${specifier}`);
}

const done = new Set();
const queue = [...entries];
while (queue.length > 0) {
  const file = queue.shift();
  if (done.has(file)) continue;
  done.add(file);
  const [pkg, ...rest] = file.split("/");
  let text = fs.readFileSync(path.join(sources[pkg], ...rest), "utf8");
  text = text.replace(statement, (whole, _kw, _q, spec1, _q2, spec2) => {
    const specifier = spec1 ?? spec2;
    const target = resolve(file, specifier);
    queue.push(target);
    let relative = path.posix.relative(path.posix.dirname(file), target);
    if (!relative.startsWith(".")) relative = "./" + relative;
    return whole.replace(specifier, relative);
  });
  if (/["']@noble\//.test(text.replace(/^\s*(\*|\/\/).*$/gm, ""))) {
    throw new Error(`${file}: a bare @noble import is left`);
  }
  const out = path.join(process.env.DEST, file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
}
for (const [name, dir] of Object.entries(sources)) {
  fs.copyFileSync(path.join(dir, "LICENSE"), path.join(process.env.DEST, name, "LICENSE"));
}
console.log(`Vendored ${done.size} modules`);
JS

{
  cat <<EOF
# Vendored JavaScript

Written by \`scripts/vendor-noble.sh\`; do not edit by hand: change the versions there and run it.

The expert console's PAKE (\`../pake.js\`, see \`docs/pake.md\`) uses P-256, SHA-256, SHA-512, HMAC
and HKDF from the noble libraries, copied here as plain ES modules: exactly the files those
imports reach, unchanged but for bare \`@noble/hashes/...\` imports rewritten to relative paths.
Both libraries are MIT-licensed (\`LICENSE\` in each folder).

| package | version | tarball integrity |
| --- | --- | --- |
| @noble/curves | $CURVES_VERSION | \`$CURVES_INTEGRITY\` |
| @noble/hashes | $HASHES_VERSION | \`$HASHES_INTEGRITY\` |

SHA-256 of each vendored file:

\`\`\`
EOF
  (cd "$DEST" && find noble-curves noble-hashes -type f | LC_ALL=C sort | xargs sha256sum)
  echo '```'
} >"$DEST/README.md"
echo "Wrote $DEST/README.md"

# The import map the console inlines (signaling-server/src/pages.rs): each module's SHA-384, so
# that browsers run only these bytes.
DEST="$DEST" node <<'JS'
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const dest = process.env.DEST;
const found = [];
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith(".js")) found.push(full);
  }
};
walk(dest);
found.sort();
const integrity = {};
for (const file of found) {
  const url = "/static/js/" + path.relative(path.dirname(dest), file).split(path.sep).join("/");
  const digest = crypto.createHash("sha384").update(fs.readFileSync(file)).digest("base64");
  integrity[url] = `sha384-${digest}`;
}
fs.writeFileSync(path.join(dest, "importmap.json"), JSON.stringify({ integrity }, null, 2) + "\n");
JS
echo "Wrote $DEST/importmap.json"
