#!/usr/bin/env bash
# bench.sh measures packaging against ffmpeg on the same input, in one run:
#   1. a ~150 MB 720p H.264+AAC rendition (40 s at 30 Mb/s, generated once into testdata/bench/):
#      `satchel package` (cenc, DASH, 6 s segments) vs Shaka Packager 3.4.2 doing the same job and
#      `ffmpeg -c copy -encryption_scheme cenc-aes-ctr` (one encrypted MP4), interleaved, three
#      rounds; wall time, the ratios, and peak RSS of each;
#   2. the same rendition looped 7 times (~1 GB): satchel's peak RSS (memory must not grow with size);
#   3. two renditions at once: CPU utilisation ((user+sys)/wall; 2.0 = both cores busy);
#   4. `satchel verify` of the ~1 GB package (decrypt every sample, decode sync samples) and
#      `verify --source` (bit-exact against the input): throughput in MB/s and peak RSS.
#   5. encoding a 4-rung ladder from one 1080p master (scripts/bench_encode.sh): one decode feeding
#      every encoder vs the same rungs one by one, and the overhead over the bare ffmpeg command.
set -euo pipefail
cd "$(dirname "$0")/.."
B=testdata/bench
mkdir -p "$B"
[[ -x ./satchel ]] || go build -o satchel .
# Package jobs are recorded in a workspace: use a throwaway one, never the user's.
SATCHEL_WORKSPACE=$(mktemp -d)
export SATCHEL_WORKSPACE
trap 'rm -rf "$SATCHEL_WORKSPACE"' EXIT
if [[ ! -f $B/bench_720p.mp4 ]]; then
  echo "generating $B/bench_720p.mp4 (40 s 1280x720, constant 30 Mb/s ≈ 150 MB)…"
  ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=24 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 40 \
    -c:v libx264 -preset ultrafast -b:v 30M -minrate 30M -maxrate 30M -bufsize 30M -x264-params nal-hrd=cbr:force-cfr=1 \
    -g 48 -keyint_min 48 -sc_threshold 0 \
    -c:a aac -b:a 128k -movflags +faststart "$B/bench_720p.mp4"
fi
# Two long renditions (the 150 MB file looped 3 times each) so CPU use is measured over seconds.
if [[ ! -f $B/bench_2a.mp4 ]]; then
  ffmpeg -v error -y -stream_loop 2 -i "$B/bench_720p.mp4" -c copy "$B/bench_2a.mp4"
  ffmpeg -v error -y -i "$B/bench_2a.mp4" -c copy -metadata title=second "$B/bench_2b.mp4"
fi
if [[ ! -f $B/bench_1g.mp4 ]]; then
  echo "generating $B/bench_1g.mp4 (the rendition looped 7 times, ~1 GB)…"
  ffmpeg -v error -y -stream_loop 6 -i "$B/bench_720p.mp4" -c copy "$B/bench_1g.mp4"
fi
KEY=00112233445566778899aabbccddeeff
KID=10203040506070809000a0b0c0d0e0f0
measure() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log"
  local wall rss user sys
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$log")
  user=$(awk -F': ' '/User time/{print $2}' "$log")
  sys=$(awk -F': ' '/System time/{print $2}' "$log")
  rm -f "$log"
  local secs; secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  printf '%-34s wall %7.2fs  peak RSS %6.1f MiB  cpu %.2f\n' "$label" "$secs" "$(echo "$rss/1024" | bc -l)" "$(echo "($user+$sys)/$secs" | bc -l)" >&2
  echo "$secs $rss"
}
# interleaved3 runs the packagers of part 1 in turn, three rounds (satchel, ffmpeg, shaka,
# satchel, …), so load changes on the machine hit each of them alike; it prints one
# "label secs rss" line per run.
SHAKA=.tools/node_modules/shaka-packager/bin/packager-linux-x64
[[ $(uname -m) == aarch64 ]] && SHAKA=.tools/node_modules/shaka-packager/bin/packager-linux-arm64
[[ -x $SHAKA ]] || bash scripts/shaka.sh
run_satchel() {
  measure "satchel package (cenc, dash)" ./satchel package --in "$B/bench_720p.mp4" --out "$B/out_satchel" \
    --scheme cenc --drm widevine,playready --formats dash --segment 6s \
    --key "HD=$KID:$KEY" --key "AUDIO=20203040506070809000a0b0c0d0e0f0:$KEY"
}
run_ffmpeg() {
  measure "ffmpeg -c copy cenc-aes-ctr" ffmpeg -v error -y -i "$B/bench_720p.mp4" -c copy \
    -encryption_scheme cenc-aes-ctr -encryption_key "$KEY" -encryption_kid "$KID" "$B/out_ffmpeg.mp4"
}
run_shaka() { # the same job as satchel's: CMAF segments of 6 s, DASH, cenc, Widevine + PlayReady pssh
  measure "shaka-packager 3.4.2 (cenc, dash)" "$SHAKA" \
    "in=$B/bench_720p.mp4,stream=video,init_segment=$B/out_shaka/v/init.mp4,segment_template=$B/out_shaka/v/\$Number\$.m4s" \
    "in=$B/bench_720p.mp4,stream=audio,init_segment=$B/out_shaka/a/init.mp4,segment_template=$B/out_shaka/a/\$Number\$.m4s" \
    --enable_raw_key_encryption --protection_scheme cenc --protection_systems Widevine,PlayReady \
    --keys "label=:key_id=$KID:key=$KEY" --clear_lead 0 --segment_duration 6 --fragment_duration 6 \
    --mpd_output "$B/out_shaka/manifest.mpd"
}
interleaved3() {
  for _ in 1 2 3; do
    for p in satchel ffmpeg shaka; do
      rm -rf "$B/out_satchel" "$B/out_ffmpeg.mp4" "$B/out_shaka"
      echo "$p $("run_$p")"
    done
  done
}
# median prints the median "secs rss" of label's runs in the interleaved3 output.
median() { grep "^$1 " <<<"$2" | cut -d' ' -f2- | sort -n | sed -n 2p; }
size=$(stat -c %s "$B/bench_720p.mp4")
echo "input: $B/bench_720p.mp4, $((size / 1048576)) MiB" >&2
runs=$(interleaved3)
read -r s_secs s_rss < <(median satchel "$runs")
read -r f_secs f_rss < <(median ffmpeg "$runs")
read -r k_secs k_rss < <(median shaka "$runs")
mib() { echo "$1/1024" | bc -l; }
printf 'median of 3 (interleaved): satchel %.2fs (peak RSS %.1f MiB), ffmpeg %.2fs (%.1f MiB), shaka-packager %.2fs (%.1f MiB)\n' \
  "$s_secs" "$(mib "$s_rss")" "$f_secs" "$(mib "$f_rss")" "$k_secs" "$(mib "$k_rss")" >&2
printf 'ratio ffmpeg/satchel: %.2fx faster; shaka-packager/satchel: %.2fx faster\n' \
  "$(echo "$f_secs/$s_secs" | bc -l)" "$(echo "$k_secs/$s_secs" | bc -l)" >&2
rm -rf "$B/out_satchel" "$B/out_ffmpeg.mp4" "$B/out_shaka" "$B/out_1g"
size1g=$(stat -c %s "$B/bench_1g.mp4")
echo "input: $B/bench_1g.mp4, $((size1g / 1048576)) MiB" >&2
measure "satchel package 1 GB (cenc, dash)" ./satchel package --in "$B/bench_1g.mp4" --out "$B/out_1g" --scheme cenc --drm widevine --formats dash >/dev/null
pkgsize=$(du -sb "$B/out_1g" | cut -f1)
verify_bench() { # label, extra args...
  local label=$1; shift
  local log; log=$(mktemp)
  local code=0
  /usr/bin/time -v ./satchel verify --keys "$B/out_1g/keys.cpix.xml" "$@" "$B/out_1g" >/dev/null 2>"$log" || code=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$log")
  rm -f "$log"
  printf '%-34s wall %7.2fs  %6.1f MB/s  peak RSS %6.1f MiB  exit %d\n' "$label" "$wall" \
    "$(echo "$pkgsize/1000000/$wall" | bc -l)" "$(echo "$rss/1024" | bc -l)" "$code" >&2
}
echo "package: $B/out_1g, $((pkgsize / 1048576)) MiB" >&2
verify_bench "satchel verify 1 GB package"
verify_bench "satchel verify --source 1 GB" --source "$B/bench_1g.mp4"
rm -rf "$B/out_1g" "$B/out_two"
measure "satchel package 2 renditions" ./satchel package --in "$B/bench_2a.mp4" --in "$B/bench_2b.mp4" --out "$B/out_two" \
  --scheme cenc --drm widevine --formats dash >/dev/null
rm -rf "$B/out_two"

# 5. encoding a 4-rung ladder from one master: scripts/bench_encode.sh (also runnable alone).
bash scripts/bench_encode.sh
