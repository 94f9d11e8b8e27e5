#!/usr/bin/env bash
# deps.sh installs what the Windows build and its smoke test need on a Debian/Ubuntu machine,
# only when missing: the mingw-w64 cross-compiler (cgo for Fyne's GLFW driver), Wine 64-bit (to
# run satchel.exe in the smoke test; fonts-wine for its window captions), zip (the dist
# archive), DejaVu fonts (stand-in for Windows' symbol fonts inside the test Wine prefix), curl,
# Xvfb, ffmpeg, tesseract-ocr and xdotool (the GUI check reads and clicks the screen), and the
# pinned Fyne packaging tool. Runs apt as root, or through sudo otherwise. Called by
# scripts/windows/build.sh and scripts/windows/smoke.sh, not by scripts/deps.sh: a Linux-only
# developer never installs Wine.
set -euo pipefail
cd "$(dirname "$0")/../.."
pkgs=(gcc-mingw-w64-x86-64 wine wine64 fonts-wine zip fonts-dejavu-core curl xvfb ffmpeg tesseract-ocr xdotool)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "windows deps: installing ${missing[*]}" >&2
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  # --no-install-recommends: Wine recommends ~100 MB of 32-bit and desktop extras the smoke
  # test does not use.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
go mod download
bash scripts/fyne-tool.sh >/dev/null
