#!/usr/bin/env bash
# make.sh regenerates the ffprobe JSON fixtures of engine/encode's master tests: small files
# made with ffmpeg's lavfi sources, probed as ProbeMaster probes them, then deleted. The JSON
# is committed (it pins what ffprobe 5.1 writes); run this to see what another version writes.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ff=(ffmpeg -v error -y)
src=(-f lavfi -i testsrc2=size=1920x1080:rate=24:duration=1 -f lavfi -i sine=duration=1)
"${ff[@]}" "${src[@]}" -c:v libx264 -preset ultrafast -c:a aac "$tmp/h264_1080p24.mp4"
# a phone clip: 1280x720 at 29.97 fps stored, displayed rotated by 90 degrees
"${ff[@]}" -f lavfi -i testsrc2=size=1280x720:rate=30000/1001:duration=1 -c:v libx264 -preset ultrafast "$tmp/r.mp4"
"${ff[@]}" -i "$tmp/r.mp4" -c copy -metadata:s:v:0 rotate=90 "$tmp/rotated.mp4"
# broadcast: anamorphic 1440x1080 (SAR 4:3), interlaced top field first, MPEG-2 in MXF, 5.1 PCM
"${ff[@]}" -f lavfi -i testsrc2=size=1440x1080:rate=25:duration=1 -f lavfi -i "sine=duration=1:sample_rate=48000" \
  -filter_complex "[1]pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[a]" -map 0:v -map "[a]" -vf setsar=4/3,setfield=tff \
  -c:v mpeg2video -flags +ilme+ildct -top 1 -b:v 20M -c:a pcm_s16le "$tmp/anamorphic_interlaced.mxf"
# ProRes masters: MKV states no stream bit rates, MOV does
"${ff[@]}" -f lavfi -i testsrc2=size=1920x1080:rate=25:duration=1 -f lavfi -i sine=duration=1 \
  -c:v prores_ks -profile:v 2 -c:a pcm_s24le "$tmp/prores.mkv"
"${ff[@]}" -f lavfi -i testsrc2=size=1920x1080:rate=25:duration=1 -f lavfi -i sine=duration=1 \
  -c:v prores_ks -profile:v 2 -c:a pcm_s24le "$tmp/prores.mov"
# not videos: audio only, audio with cover art, a still image
"${ff[@]}" -f lavfi -i sine=duration=1 -c:a aac "$tmp/audio.m4a"
"${ff[@]}" -f lavfi -i testsrc2=size=640x360:rate=1 -frames:v 1 "$tmp/still.png"
"${ff[@]}" -f lavfi -i sine=duration=1 -i "$tmp/still.png" -map 0 -map 1 -c:a aac -c:v png \
  -disposition:v:0 attached_pic "$tmp/coverart.m4a"
for f in h264_1080p24.mp4 rotated.mp4 anamorphic_interlaced.mxf prores.mkv prores.mov audio.m4a still.png coverart.m4a; do
  ffprobe -v error -print_format json -show_format -show_streams "$tmp/$f" |
    sed "s#$tmp/##" >"$f.json"
done
echo "wrote $(ls ./*.json | wc -l) fixtures"
