#!/usr/bin/env bash
# screenshots.sh starts the real app under Xvfb on a fresh workspace with the sample ladder,
# lets it package and verify the ladder, and saves one PNG per screen into docs/screenshots/
# (grabbed from the X display with ffmpeg's x11grab when the app announces each screen).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v Xvfb >/dev/null || { echo "screenshots.sh: Xvfb is missing; run scripts/deps.sh" >&2; exit 1; }
[[ -x ./satchel ]] || go build -o satchel .
ws=$(mktemp -d)
home=$(mktemp -d)
disp=:$((90 + RANDOM % 100))
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xpid=$!
trap 'kill $xpid 2>/dev/null || true; rm -rf "$ws" "$home"' EXIT
sleep 1
./satchel keys gen "Studio keys" --workspace "$ws" >/dev/null
mkdir -p docs/screenshots
DISPLAY=$disp SATCHEL_SCREENSHOTS=docs/screenshots HOME="$home" timeout 300 \
  ./satchel --workspace "$ws" --samples testdata/media 2>/dev/null |
while read -r tag file; do
  [[ $tag == SCREEN ]] || continue
  ffmpeg -nostdin -v error -y -f x11grab -video_size 1280x800 -i "$disp" -frames:v 1 "$file"
  echo "saved $file"
done
