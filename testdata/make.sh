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

# A multi-language title (issue 12), 6 s like the ladder:
#   multilang.mp4        H.264 426x240 (GOP 2 s) + AAC 5.1 English (default) + AAC stereo French
#                        + mov_text English subtitles (made from multilang.en.srt)
#   ../subtitles/multilang.en.srt   the English cues of the mov_text track
#   ../subtitles/multilang.fr.srt   French subtitles (SRT)   ../subtitles/multilang.es.vtt  Spanish (WebVTT)
#   (subtitle files live in testdata/subtitles: testdata/media holds MP4 files only)
#   commentary_mono.m4a  AAC mono, English (a separate commentary track)
#   surround_ac3.m4a     AC-3 5.1, German               surround_eac3.m4a  E-AC-3 5.1, Italian
subs=subtitles
mkdir -p "$subs"
write() { # name, then the content on stdin; rewritten only with --force or when missing
  if [[ -f "$subs/$1" && "$force" != "--force" ]]; then cat >/dev/null; return; fi
  cat >"$subs/$1"; echo "made $subs/$1"
}
write multilang.en.srt <<'SRT'
1
00:00:00,500 --> 00:00:01,900
Hello from the English track.

2
00:00:02,500 --> 00:00:04,500
This cue crosses a segment boundary,
on <i>two</i> lines.

3
00:00:05,000 --> 00:00:05,900
The end.
SRT
write multilang.fr.srt <<'SRT'
1
00:00:00,500 --> 00:00:01,900
Bonjour depuis la piste française.

2
00:00:02,500 --> 00:00:04,500
Ce sous-titre traverse une frontière de segment.

3
00:00:05,000 --> 00:00:05,900
Fin.
SRT
write multilang.es.vtt <<'VTT'
WEBVTT

NOTE Spanish subtitles for the multi-language test title.

uno
00:00:00.500 --> 00:00:01.900 line:85% align:center
Hola desde la pista en español.

00:00:02.500 --> 00:00:04.500
Este subtítulo cruza un límite de segmento.

00:05.000 --> 00:05.900
Fin.
VTT
aud=(-fflags +bitexact -flags:a +bitexact -map_metadata -1 -ar 48000)
tone() { echo "sine=frequency=$1:sample_rate=48000:duration=${dur}"; }
if [[ ! -f "$out/multilang.mp4" || "$force" == "--force" ]]; then
  six="aevalsrc=exprs=0.3*sin(440*2*PI*t)|0.3*sin(550*2*PI*t)|0.3*sin(660*2*PI*t)|0.2*sin(110*2*PI*t)|0.3*sin(770*2*PI*t)|0.3*sin(880*2*PI*t)"
  ffmpeg -y -hide_banner -loglevel error \
    -f lavfi -i "testsrc2=size=426x240:rate=24:duration=${dur}" \
    -f lavfi -i "${six}:channel_layout=5.1:sample_rate=48000:duration=${dur}" \
    -f lavfi -i "$(tone 330)" -i "$subs/multilang.en.srt" \
    -map 0:v -map 1:a -map 2:a -map 3:s "${x264[@]}" -b:v 250k -maxrate 300k -bufsize 600k \
    -c:a aac -b:a:0 192k -b:a:1 96k -ac:a:1 2 -c:s mov_text "${aud[@]}" -flags:v +bitexact \
    -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra -metadata:s:s:0 language=eng \
    -disposition:a:0 default -disposition:a:1 0 -disposition:s:0 0 \
    -movflags +faststart "$out/.multilang.tmp.mp4"
  mv "$out/.multilang.tmp.mp4" "$out/multilang.mp4"; echo "made $out/multilang.mp4"
fi
audio() { # name, input filter, language, then encoder args
  local name=$1 src=$2 lang=$3; shift 3
  if [[ -f "$out/$name" && "$force" != "--force" ]]; then return; fi
  ffmpeg -y -hide_banner -loglevel error -f lavfi -i "$src" -map 0:a "$@" "${aud[@]}" \
    -metadata:s:a:0 language="$lang" -f mp4 "$out/.$name.tmp"
  mv "$out/.$name.tmp" "$out/$name"; echo "made $out/$name"
}
audio commentary_mono.m4a "$(tone 220)" eng -c:a aac -b:a 48k -ac 1
surround51="aevalsrc=exprs=0.3*sin(300*2*PI*t)|0.3*sin(400*2*PI*t)|0.3*sin(500*2*PI*t)|0.2*sin(90*2*PI*t)|0.3*sin(600*2*PI*t)|0.3*sin(700*2*PI*t):channel_layout=5.1:sample_rate=48000:duration=${dur}"
audio surround_ac3.m4a "$surround51" deu -c:a ac3 -b:a 192k
audio surround_eac3.m4a "$surround51" ita -c:a eac3 -b:a 192k
