#!/usr/bin/env bash
# shaka.sh installs Shaka Packager (npm package shaka-packager, pinned; it ships the
# packager binary per platform) into .tools/. The verify tests package peer files with it at
# test time. Safe to re-run: it does nothing when the pinned version is there.
set -euo pipefail
cd "$(dirname "$0")/.."
SHAKA_VERSION=3.4.2
PKG=.tools/node_modules/shaka-packager
if [[ -f $PKG/package.json ]] && grep -q "\"version\": \"$SHAKA_VERSION\"" "$PKG/package.json"; then
  exit 0
fi
command -v npm >/dev/null || { echo "shaka.sh: npm is required (install Node.js 18+)" >&2; exit 1; }
mkdir -p .tools
npm --prefix .tools install --no-audit --no-fund --loglevel=error "shaka-packager@$SHAKA_VERSION" >/dev/null
chmod +x "$PKG"/bin/packager-* 2>/dev/null || true
echo "shaka-packager $SHAKA_VERSION installed in .tools/"
