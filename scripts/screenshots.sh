#!/usr/bin/env bash
# screenshots.sh renders every screen of the desktop app into docs/screenshots/ (1200x780, the
# default window) and into docs/screenshots/variants/ every screen at 1200x780 and 1920x1080 in
# the light and dark themes (not committed: look at them). The tour is a Go test
# (ui/screenshots_test.go): on a fresh workspace it adds the sample ladder, packages, verifies
# and publishes it to a folder, licenses a key through the running license server, simulates a
# device and inspects an init segment, so the screens show real results. It renders with Fyne's
# software painter, so it needs no display (no Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
mkdir -p "$out"
SATCHEL_SCREENSHOTS="$(cd "$out" && pwd)" SATCHEL_SCREENSHOT_VARIANTS=1 go test ./ui -run '^TestScreenshots$' -count=1 -v | grep -E '^\s+screenshots_test.go:[0-9]+: saved' || true
ls "$out"/*.png >/dev/null
