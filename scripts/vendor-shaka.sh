#!/usr/bin/env bash
# vendor-shaka.sh fetches the pinned Shaka Player release from the npm registry, checks the
# tarball against the pinned integrity hash, and copies its compiled build and licenses into
# assets/player/vendor/shaka-player/, which the binary embeds (the demo player plays DASH/HLS
# packages with it). Run it only to change the pinned version; the result is committed.
#   scripts/vendor-shaka.sh            fetch, verify, copy
#   scripts/vendor-shaka.sh --check    verify the committed copy against SOURCE (no network)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=5.2.12
INTEGRITY=sha512-vEsuVDI3+oLh+yqpjXexQZlg2XMUBI0VrqatDuKWacPaxAud6Uph5uCowUPLhUgNG5XKWCpoM4l1r8qYzWH+zg==
DEST=assets/player/vendor/shaka-player
FILES=(dist/shaka-player.compiled.js LICENSE third_party/cml-cmcd/LICENSE third_party/cml-cmcd/NOTICE
  third_party/language-mapping-list/LICENSE)

if [[ "${1:-}" == "--check" ]]; then
  (cd "$DEST" && sha256sum --quiet -c SHA256SUMS) && echo "shaka-player $VERSION: vendored copy intact"
  exit 0
fi
command -v npm >/dev/null || { echo "vendor-shaka.sh: npm is required" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "shaka-player@$VERSION" >/dev/null)
tgz="$tmp/shaka-player-$VERSION.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [[ "$got" != "$INTEGRITY" ]]; then
  echo "vendor-shaka.sh: shaka-player-$VERSION.tgz has integrity $got, want $INTEGRITY; not vendoring" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp"
rm -rf "$DEST"
for f in "${FILES[@]}"; do
  mkdir -p "$DEST/$(dirname "$f")"
  cp "$tmp/package/$f" "$DEST/$f"
done
cat >"$DEST/SOURCE" <<SRC
Shaka Player $VERSION (Apache-2.0; bundled third-party code under the licenses in third_party/)
npm: shaka-player@$VERSION  tarball integrity: $INTEGRITY
Made by scripts/vendor-shaka.sh; do not edit by hand.
SRC
(cd "$DEST" && sha256sum "${FILES[@]}" SOURCE >SHA256SUMS)
echo "vendored shaka-player $VERSION into $DEST"
