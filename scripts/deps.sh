#!/usr/bin/env bash
# deps.sh installs everything Satchel needs on a fresh Debian/Ubuntu machine:
#   system packages (cgo GUI headers, ffmpeg for test media, Xvfb for screenshots),
#   Go modules, Azurite (npm) for the publish tests and Shaka Packager (npm) for the peer
#   tests (verify, decryption), mp4box.js and dash.js (MSS) for the PIFF and Smooth tests.
#   Safe to re-run: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(gcc pkg-config libgl1-mesa-dev xorg-dev ffmpeg xvfb time bc jq chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
go mod download
if [[ ! -x .tools/node_modules/.bin/azurite-blob ]]; then
  bash scripts/azurite.sh install
fi
bash scripts/shaka.sh
# mp4box.js (GPAC's MP4 parser for JavaScript): reads the PIFF uuid boxes of PIFF downloads in the tests.
if ! grep -qs '"version": "2.4.1"' .tools/node_modules/mp4box/package.json; then
  npm --prefix .tools install --no-audit --no-fund --loglevel=error mp4box@2.4.1 >/dev/null
fi
# dash.js with its Smooth Streaming (MSS) plugin: the real Smooth reader the tests open Satchel's
# .ismc with in headless Chromium (app/services TestSmoothInDashJS).
if ! grep -qs '"version": "5.2.1"' .tools/node_modules/dashjs/package.json; then
  npm --prefix .tools install --no-audit --no-fund --loglevel=error dashjs@5.2.1 >/dev/null
fi
bash testdata/make.sh
