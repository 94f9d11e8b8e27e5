#!/usr/bin/env bash
# bench_encode.sh measures engine/encode (issue 14) on the 2-core reference machine.
# The master is what an editing tool exports for a studio: a 20 s 1920x1080 24 fps H.264 High
# mezzanine at 40 Mb/s (CABAC, B-frames) with film-like grain and stereo AAC, generated once.
# (Decoding it costs about as much CPU as decoding ProRes 422 HQ; a master made with x264's
# ultrafast preset would decode 3x cheaper and flatter the one-decode strategy less.) Interleaved rounds (ENC_ROUNDS, default 3), median of each:
#   satchel one-process   `satchel encode`, one ffmpeg: decode once, split + scale, 4 encoders
#   satchel parallel      `satchel encode --strategy parallel`, one ffmpeg per rung, as many at once as CPUs
#   bare one-process      the exact command line `satchel encode --dry-run` prints for one-process, run by bash
#   one by one            the same 4 rungs, one ffmpeg per rung (its parallel plan), run one after the other
# Same encoder settings everywhere (veryfast, so a round takes minutes, not tens of minutes).
# Speed-up = one-by-one / satchel default; overhead = satchel default / bare - 1. Under load
# (other jobs on the machine) wall times swing between runs, so the overhead is also measured
# inside each satchel run: the satchel process's wall time minus the wall time of the ffmpeg
# encode process it ran (from `--json`: commands[].elapsed_ns). Satchel runs as the user runs
# it: the whole command, with its workspace (a scratch one, --workspace), probes and checks.
set -euo pipefail
cd "$(dirname "$0")/.."
B=testdata/bench
mkdir -p "$B"
EM=$B/master_1080p_20s_high40.mp4
if [[ ! -f $EM ]]; then
  echo "generating $EM (20 s 1920x1080 24 fps, H.264 High 40 Mb/s with grain, stereo AAC)…" >&2
  ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=24 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 \
    -vf noise=alls=6:allf=t -c:v libx264 -profile:v high -preset veryfast -b:v 40M -maxrate 40M -bufsize 40M \
    -pix_fmt yuv420p -c:a aac -b:a 192k -ac 2 "$B/.master.tmp.mp4"
  mv "$B/.master.tmp.mp4" "$EM"
fi
cat >"$B/ladder4.txt" <<'LADDER'
ladder bench
1920x1080 4500k
1280x720  2500k
960x540   1200k
640x360    600k
LADDER
go build -o "$B/satchel" .
rm -rf "$B/enc_ws"
EB=("$B/satchel" encode "$EM" --ladder "$B/ladder4.txt" --speed veryfast --workspace "$B/enc_ws")
"${EB[@]}" --strategy one-process --out "$B/enc_bare" --dry-run >"$B/enc_one.sh"
"${EB[@]}" --strategy parallel --out "$B/enc_bare" --dry-run >"$B/enc_seq.sh"
echo "encode commands: $B/enc_one.sh (one process), $B/enc_seq.sh (one per rung)" >&2
# cputime label, command...: prints "wall cpu" (seconds) and a line on stderr; the command's
# stdout goes to $OUT.
OUT=/dev/null
cputime() {
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -f '%e %U %S' -o "$log" "$@" >"$OUT"
  local wall user sys; read -r wall user sys <"$log"; rm -f "$log"
  printf '%-24s wall %7.2fs  cpu %7.2fs\n' "$label" "$wall" "$(echo "$user+$sys" | bc -l)" >&2
  echo "$wall $(echo "$user+$sys" | bc -l)"
}
fresh() { rm -rf "$B/enc_sat" "$B/enc_bare"; mkdir -p "$B/enc_bare"; }
rm -f "$B/enc_timing.txt"
declare -A W C
for ((r = 1; r <= ${ENC_ROUNDS:-3}; r++)); do
  echo "encode round $r" >&2
  fresh; OUT=$B/enc_sat.json
  read -r w c < <(cputime "satchel one-process" "${EB[@]}" --strategy one-process --out "$B/enc_sat" --json); W[one]+="$w "; C[one]+="$c "
  echo "$w $(jq '[.commands[] | select(.purpose == "encode") | .elapsed_ns] | add / 1e9' "$OUT")" >>"$B/enc_timing.txt"
  OUT=/dev/null
  fresh; read -r w c < <(cputime "satchel parallel" "${EB[@]}" --strategy parallel --out "$B/enc_sat"); W[par]+="$w "; C[par]+="$c "
  fresh; read -r w c < <(cputime "bare one-process" bash "$B/enc_one.sh"); W[bare]+="$w "; C[bare]+="$c "
  fresh; read -r w c < <(cputime "one by one" bash "$B/enc_seq.sh"); W[seq]+="$w "; C[seq]+="$c "
done
fresh; rm -rf "$B/enc_bare" "$B/enc_ws" "$B/enc_sat.json"
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A MW MC
for k in one par bare seq; do MW[$k]=$(median "${W[$k]}"); MC[$k]=$(median "${C[$k]}"); done
printf 'encode medians (wall / cpu): satchel one-process %.2fs / %.2fs, satchel parallel %.2fs / %.2fs, bare one-process %.2fs / %.2fs, one by one %.2fs / %.2fs\n' \
  "${MW[one]}" "${MC[one]}" "${MW[par]}" "${MC[par]}" "${MW[bare]}" "${MC[bare]}" "${MW[seq]}" "${MC[seq]}" >&2
printf 'encode speed-up, one by one / satchel (one-process): %.2fx wall, %.2fx cpu (target >= 1.5x)\n' \
  "$(echo "${MW[seq]}/${MW[one]}" | bc -l)" "$(echo "${MC[seq]}/${MC[one]}" | bc -l)" >&2
printf 'encode one-process vs parallel: parallel takes %.2fx the wall time\n' "$(echo "${MW[par]}/${MW[one]}" | bc -l)" >&2
printf 'encode overhead, satchel over the bare ffmpeg command it runs: %+.1f%% wall, %+.1f%% cpu (target < 3%%)\n' \
  "$(echo "(${MW[one]}/${MW[bare]}-1)*100" | bc -l)" "$(echo "(${MC[one]}/${MC[bare]}-1)*100" | bc -l)" >&2
ov=$(awk '{printf "%f ", ($1-$2)/$2*100}' "$B/enc_timing.txt")
printf 'encode overhead measured inside each satchel one-process run (the satchel process wall time minus the ffmpeg process it ran): median %+.2f%% (runs: %s)\n' \
  "$(median "$ov")" "$ov" >&2
