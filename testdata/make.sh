#!/usr/bin/env bash
# make.sh generates Satchel's small test media with ffmpeg.
#
# Outputs (testdata/media/, committed so golden files stay stable across ffmpeg versions):
#   ladder_240p.mp4  ladder_360p.mp4  ladder_720p.mp4   H.264 High + AAC-LC, 6 s, 24 fps, GOP 48 (2 s)
#   hevc_720p.mp4                                        HEVC (hvc1) + AAC-LC, same GOP
#   misaligned_360p.mp4                                  H.264, GOP 36 (1.5 s): not aligned with the ladder
#   audio_only.m4a                                       AAC-LC only (no video: a bad ladder input)
#   fragmented_360p.mp4                                  the 360p rung as fragmented MP4 (probe input)
# Run `testdata/make.sh --force` to regenerate. Total size stays well under 5 MB.
set -euo pipefail
cd "$(dirname "$0")"
out=media
mkdir -p "$out"
force=${1:-}
dur=6
src=(-f lavfi -i "testsrc2=size=1280x720:rate=24:duration=${dur}" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=${dur}")
common=(-y -hide_banner -loglevel error -map 0:v -map 1:a -c:a aac -b:a 64k -ac 2 -ar 48000 -movflags +faststart -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact)
x264=(-c:v libx264 -profile:v high -preset veryfast -pix_fmt yuv420p -threads 1 -x264-params "keyint=48:min-keyint=48:scenecut=0:bframes=2")

make() { # name, then ffmpeg args
  local name=$1; shift
  if [[ -f "$out/$name" && "$force" != "--force" ]]; then return; fi
  ffmpeg "${src[@]}" "$@" "${common[@]}" "$out/.$name.tmp.mp4"
  mv "$out/.$name.tmp.mp4" "$out/$name"
  echo "made $out/$name"
}

make ladder_240p.mp4 "${x264[@]}" -vf scale=426:240 -b:v 250k -maxrate 300k -bufsize 600k
make ladder_360p.mp4 "${x264[@]}" -vf scale=640:360 -b:v 500k -maxrate 600k -bufsize 1200k
make ladder_720p.mp4 "${x264[@]}" -vf scale=1280:720 -b:v 1200k -maxrate 1500k -bufsize 3000k
make hevc_720p.mp4 -c:v libx265 -tag:v hvc1 -preset veryfast -pix_fmt yuv420p -b:v 700k \
  -x265-params "keyint=48:min-keyint=48:scenecut=0:bframes=2:pools=1:frame-threads=1:log-level=error"
make misaligned_360p.mp4 -c:v libx264 -profile:v high -preset veryfast -pix_fmt yuv420p -threads 1 \
  -x264-params "keyint=36:min-keyint=36:scenecut=0" -vf scale=640:360 -b:v 500k

if [[ ! -f "$out/audio_only.m4a" || "$force" == "--force" ]]; then
  ffmpeg -y -hide_banner -loglevel error -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=${dur}" \
    -c:a aac -b:a 64k -map_metadata -1 -fflags +bitexact "$out/.audio_only.tmp.m4a"
  mv "$out/.audio_only.tmp.m4a" "$out/audio_only.m4a"; echo "made $out/audio_only.m4a"
fi
if [[ ! -f "$out/fragmented_360p.mp4" || "$force" == "--force" ]]; then
  ffmpeg -y -hide_banner -loglevel error -i "$out/ladder_360p.mp4" -c copy \
    -movflags +frag_keyframe+empty_moov+default_base_moof -map_metadata -1 "$out/.fragmented.tmp.mp4"
  mv "$out/.fragmented.tmp.mp4" "$out/fragmented_360p.mp4"; echo "made $out/fragmented_360p.mp4"
fi
