#!/usr/bin/env bash
# smoke.sh is the Windows smoke test (`make test-windows`, run by .ci/run after `make test`).
# It builds dist/windows/satchel.exe and satchel.com (scripts/windows/build.sh, which installs
# mingw-w64 and Wine when missing) and, in a throw-away Wine prefix:
#   1. checks the PE files: amd64, GUI and console subsystems, icon + version + manifest
#      resources, the version from FyneApp.toml, no test shim next to them; runs app/store's
#      key-protection (DPAPI) unit tests, cross-compiled, under Wine;
#   2. runs probe, package (DASH + HLS + MP4, cenc and cbcs, fixed keys) and verify on the
#      sample ladder (testdata/media) and compares with the Linux build of the same tree: probe
#      JSON equal; the same files with the same sizes; manifests and keys.cpix.xml equal with
#      IV values masked (see compare_package); each build's package verified by the other build,
#      decrypted bit-exact against the sources;
#   3. checks the workspace on Windows: the data key sealed with DPAPI, a Linux workspace opened
#      and resealed, the sealed key refused on Linux with a clear error, the workspace lock;
#   4. starts `serve` and fetches a ClearKey license (and the demo player, and the package) over
#      loopback, then runs the Linux verifier against that Windows license server;
#   5. starts the GUI (satchel.exe) under Xvfb + Wine's virtual desktop with --samples (the
#      testdata/media ladder, copied to C:\users\Public\Videos\Sample ladder), reads the Assets
#      screen with OCR until the ladder is listed, clicks the first rendition (its details must
#      appear), and saves the screenshot (dist/windows/screenshots/assets.png;
#      SATCHEL_UPDATE_SCREENSHOTS=1 also copies it to docs/screenshots/windows-assets.png);
#   6. self-test: the probe/package/compare checks run again on two broken copies of the program
#      (truncated; one output string patched) and must FAIL, or the smoke test fails.
# Test-environment aids, never shipped: the ProcessPrng shim DLL (scripts/windows/prng-shim.c);
# in the prefix's Fonts folder, DejaVu Sans (stand-in for Windows' Segoe UI Symbol, which has the
# ✓ glyph Fyne's font fallback looks for in C:\Windows\Fonts) and Wine's Marlett (the window
# caption buttons, which this Wine does not find on its own). SATCHEL_KEEP_WINE=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
t_start=$SECONDS
passed=0
failed=0
say() { printf '%s\n' "$*" >&2; }
ok() { passed=$((passed + 1)); say "ok    $*"; }
bad() { failed=$((failed + 1)); say "FAIL  $*"; }
stage() { say "== $* ($((SECONDS - t_start)) s)"; }

stage "build"
bash scripts/windows/build.sh
exe=$root/dist/windows/satchel.exe
com=$root/dist/windows/satchel.com

work=$(mktemp -d /tmp/satchel-wine.XXXXXX)
export WINEPREFIX=$work/prefix WINEARCH=win64 WINEDEBUG=-all
# No Mono/Gecko installers (they would prompt); satchel needs neither.
export WINEDLLOVERRIDES="mscoree,mshtml="
xvfb_pid=""
cleanup() {
  local rc=$?
  if [[ -n $xvfb_pid ]]; then kill "$xvfb_pid" 2>/dev/null || true; fi
  if [[ -d $WINEPREFIX ]]; then wineserver -k 2>/dev/null || true; fi
  if [[ ${SATCHEL_KEEP_WINE:-} == 1 ]]; then say "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT

winpath() { local p=${1//\//\\}; echo "Z:$p"; } # Wine maps / to drive Z:
wine_run() { wine "$@"; }                       # separate name so the log says what ran under Wine

# Fixed keys (KID:key per track type) shared by the Linux and Windows runs.
declare -A KID=([AUDIO]=00112233445566778899aabbccddeeff [SD]=10112233445566778899aabbccddeeff
  [HD]=20112233445566778899aabbccddeeff)
declare -A KEY=([AUDIO]=000102030405060708090a0b0c0d0e0f [SD]=100102030405060708090a0b0c0d0e0f
  [HD]=200102030405060708090a0b0c0d0e0f)
key_flags=()
for t in AUDIO SD HD; do key_flags+=(--key "$t=${KID[$t]}:${KEY[$t]}"); done
ladder=(testdata/media/ladder_240p.mp4 testdata/media/ladder_360p.mp4 testdata/media/ladder_720p.mp4)
in_flags=()
sources=()
for f in "${ladder[@]}"; do in_flags+=(--in "$f"); sources+=(--source "$f"); done
b64url() { printf "$(sed 's/../\\x&/g' <<<"$1")" | base64 | tr '+/' '-_' | tr -d '='; }
version=$(sed -n 's/^Version = "\(.*\)"/\1/p' FyneApp.toml)
build_no=$(sed -n 's/^Build = \([0-9]*\)/\1/p' FyneApp.toml)

# ---------------------------------------------------------------------------------------------
stage "1. PE files"
pe_info() { x86_64-w64-mingw32-objdump -p "$1"; }
exe_info=$(pe_info "$exe")
com_info=$(pe_info "$com")
[[ $exe_info == *"file format pei-x86-64"* ]] && ok "satchel.exe is a PE32+ x86-64 program" || bad "satchel.exe is not PE32+ x86-64"
[[ $exe_info == *"(Windows GUI)"* ]] && ok "satchel.exe: GUI subsystem" || bad "satchel.exe is not a GUI program"
[[ $com_info == *"(Windows CUI)"* ]] && ok "satchel.com: console subsystem" || bad "satchel.com is not a console program"
# Resource types at the top of .rsrc: 3 ICON, 0xe GROUP_ICON, 0x10 VERSION, 0x18 MANIFEST.
types=$(sed -n '/The .rsrc Resource Directory section/,/^$/p' <<<"$exe_info" | grep -E '^[0-9a-f]{3}   Entry' || true)
missing=""
for id in 000003 00000e 000010 000018; do [[ $types == *"ID: 0x$id"* ]] || missing+=" 0x$id"; done
[[ -z $missing ]] && ok "satchel.exe has icon, version and manifest resources" || bad "satchel.exe lacks resource types$missing"
utf16=$(strings -el "$exe")
[[ $'\n'$utf16$'\n' == *$'\n'"$version.$build_no"$'\n'* ]] && ok "version resource says $version.$build_no (FyneApp.toml)" ||
  bad "version resource lacks $version.$build_no"
shopt -s nocaseglob nullglob
shims=(dist/windows/*bcryptprimitives*)
shopt -u nocaseglob nullglob
((${#shims[@]} == 0)) && ok "no test shim in dist/windows" || bad "a bcryptprimitives shim sits in dist/windows"

# ---------------------------------------------------------------------------------------------
stage "prefix"
wineboot -i >/dev/null 2>&1 || true
[[ -d $WINEPREFIX/drive_c/windows/system32 ]] || { bad "wineboot did not create the prefix"; exit 1; }
mkdir -p "$work/shim"
x86_64-w64-mingw32-gcc -O2 -shared -s -o "$work/shim/bcryptprimitives.dll" scripts/windows/prng-shim.c -ladvapi32
cp "$work/shim/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/wine/fonts/marlett.ttf "$WINEPREFIX/drive_c/windows/Fonts/"
wine_ver=$(wine --version)
say "prefix ready: $wine_ver, shim ProcessPrng installed in the prefix only"

# ---------------------------------------------------------------------------------------------
stage "unit tests under Wine"
# The workspace key-protection tests (DPAPI on Windows), cross-compiled and run under Wine. The
# rest of app/store's tests use t.TempDir, whose cleanup (os.RemoveAll) this Wine cannot do.
wt_run='^(TestUnixPlainKeyFileOpens|TestReadOnlyOpenLeavesKeyFile|TestPassphraseKeyFileIsPortable|TestDPAPISeal)$'
if CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go test -c -o "$work/store.test.exe" ./app/store &&
  (cd "$work" && wine_run ./store.test.exe -test.v -test.run "$wt_run") >"$work/store-tests.txt" 2>&1 &&
  [[ $(grep -c -- '--- PASS' "$work/store-tests.txt") == 4 ]]; then
  ok "app/store key-protection tests pass under Wine (DPAPI seal, Unix key resealed, read-only open, passphrase)"
else
  bad "app/store tests under Wine"; tail -20 "$work/store-tests.txt" >&2
fi

# ---------------------------------------------------------------------------------------------
stage "Linux reference build"
linux=$work/satchel-linux
go build -o "$linux" .
"$linux" probe "${ladder[@]}" --json >"$work/probe-linux.json" 2>/dev/null
"$linux" package "${in_flags[@]}" --out "$work/linux/pkg" --scheme both --formats dash,hls,mp4 \
  "${key_flags[@]}" --workspace "$work/ws-linux-pkg" >/dev/null 2>&1

# mask_ivs prints a manifest or CPIX file with IV values replaced by "IV": the cbcs constant IV
# and per-sample IVs are random per packaging run (reusing an IV under a key for different
# content breaks CTR and weakens CBC; deriving it from the key alone would reuse it across
# titles), so they are the one thing the two builds must NOT share. Everything else must be
# byte-equal. The IVs themselves are checked by verify (tenc/senc against the signalling, and
# decryption bit-exact with the sources).
mask_ivs() { sed -E 's/(explicitIV=")[^"]*"/\1IV"/g; s/(IV=0[xX])[0-9A-Fa-f]+/\1IV/g' "$1"; }

# compare_package DIR_WIN DIR_LINUX: same files, same sizes, manifests and keys equal.
compare_package() {
  local w=$1 l=$2 f
  diff <(cd "$l" && find . -type f -printf '%p %s\n' | sort) <(cd "$w" && find . -type f -printf '%p %s\n' | sort) \
    >"$work/sizes.diff" || { say "file list or sizes differ:"; head -20 "$work/sizes.diff" >&2; return 1; }
  while IFS= read -r f; do
    cmp -s <(mask_ivs "$l/$f") <(mask_ivs "$w/$f") || { say "$f differs:"; diff <(mask_ivs "$l/$f") <(mask_ivs "$w/$f") | head -20 >&2; return 1; }
  done < <(cd "$l" && find . -type f \( -name '*.mpd' -o -name '*.m3u8' -o -name 'keys.cpix.xml' \) | sort)
}

# core EXE DIR runs probe, package and the comparison with one build of the program; it stops
# at the first failure (status 1). The self-test runs it on broken copies.
core() {
  local bin=$1 out=$2 rc=0
  mkdir -p "$out"
  wine_run "$bin" help >"$out/help.txt" 2>&1 || { say "help: exit $?"; return 1; }
  grep -q "Satchel $version" "$out/help.txt" || { say "help does not print Satchel $version"; return 1; }
  wine_run "$bin" probe "${ladder[@]}" --json >"$out/probe.json" 2>"$out/probe.err" || { say "probe: exit $?"; return 1; }
  cmp -s "$work/probe-linux.json" "$out/probe.json" || { say "probe JSON differs from Linux"; diff "$work/probe-linux.json" "$out/probe.json" | head >&2; return 1; }
  wine_run "$bin" probe testdata/make.sh >/dev/null 2>&1 || rc=$?
  [[ $rc == 2 ]] || { say "probe of a non-MP4 exited $rc, want 2"; return 1; }
  wine_run "$bin" package "${in_flags[@]}" --out "$(winpath "$out/pkg")" --scheme both --formats dash,hls,mp4 \
    "${key_flags[@]}" --workspace "$(winpath "$out/ws")" >"$out/package.log" 2>&1 || { say "package: exit $?"; tail "$out/package.log" >&2; return 1; }
  compare_package "$out/pkg" "$work/linux/pkg" || return 1
}

# ---------------------------------------------------------------------------------------------
stage "2. probe, package, verify under Wine"
if core "$com" "$work/win"; then
  ok "satchel.com help/probe/package under Wine: exit codes, probe JSON equal to Linux"
  ok "package: same files and sizes as Linux; manifests and keys.cpix.xml equal (IVs masked)"
else
  bad "probe/package under Wine (see above)"
fi
wine_run "$exe" probe "${ladder[@]}" --json >"$work/probe-exe.json" 2>/dev/null &&
  cmp -s "$work/probe-linux.json" "$work/probe-exe.json" && ok "satchel.exe (GUI build) runs a command with redirected output" ||
  bad "satchel.exe probe"
win_pkg=$work/win/pkg
for m in manifest.mpd manifest_cbcs.mpd master.m3u8 download/720p.mp4; do
  if wine_run "$com" verify "$(winpath "$win_pkg/$m")" --keys "$(winpath "$win_pkg/keys.cpix.xml")" "${sources[@]}" \
    --workspace "$(winpath "$work/ws-verify")" >"$work/verify-$(basename "$m").txt" 2>&1; then
    ok "verify $m under Wine: $(tail -1 "$work/verify-$(basename "$m").txt")"
  else
    bad "verify $m under Wine"; tail -15 "$work/verify-$(basename "$m").txt" >&2
  fi
done
"$linux" verify "$win_pkg" "${sources[@]}" --workspace "$work/ws-linux-verify" >"$work/cross1.txt" 2>&1 &&
  grep -q "bit-exact" "$work/cross1.txt" && ok "Linux verify of the Windows package: decrypts bit-exact" || { bad "Linux verify of the Windows package"; tail "$work/cross1.txt" >&2; }
wine_run "$com" verify "$(winpath "$work/linux/pkg")" "${sources[@]}" --workspace "$(winpath "$work/ws-verify")" >"$work/cross2.txt" 2>&1 &&
  ok "Windows verify of the Linux package" || { bad "Windows verify of the Linux package"; tail "$work/cross2.txt" >&2; }
rc=0
wine_run "$com" package "${in_flags[@]}" --out "$(winpath "$win_pkg")" "${key_flags[@]}" --workspace "$(winpath "$work/win/ws")" >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] && ok "package into a non-empty folder refused (exit 2)" || bad "package into a non-empty folder: exit $rc, want 2"
wine_run "$com" package "${in_flags[@]}" --out "$(winpath "$win_pkg")" --overwrite --scheme both --formats dash,hls,mp4 \
  "${key_flags[@]}" --workspace "$(winpath "$work/win/ws")" >/dev/null 2>&1 && compare_package "$win_pkg" "$work/linux/pkg" &&
  ok "package --overwrite replaces the folder (temp folder renamed into place)" || bad "package --overwrite"

wine_run "$com" publish "$(winpath "$win_pkg")" --to "$(winpath "$work/published")" \
  --workspace "$(winpath "$work/win/ws")" >"$work/publish.log" 2>&1 &&
  diff -r -x keys.cpix.xml -x .satchel-package "$win_pkg" "$work/published" >/dev/null &&
  [[ ! -e $work/published/keys.cpix.xml && ! -e $work/published/.satchel-package ]] &&
  ok "publish to a folder copies the package unchanged, without keys.cpix.xml or the package marker" || { bad "publish to a folder"; tail "$work/publish.log" >&2; }

# ---------------------------------------------------------------------------------------------
stage "3. workspace: DPAPI and lock"
ws=$work/ws-win
wine_run "$com" keys gen Studio --workspace "$(winpath "$ws")" >/dev/null 2>&1 || bad "keys gen under Wine"
keyfile=$(cat "$ws/satchel.key" 2>/dev/null || true)
[[ $keyfile == *'"dpapi":'* && $keyfile != *'"key":'* ]] && ok "satchel.key is sealed with DPAPI (no plain key)" ||
  bad "satchel.key is not DPAPI-sealed: $keyfile"
wine_run "$com" keys show Studio --show-keys --json --workspace "$(winpath "$ws")" >"$work/keys-win.json" 2>&1 &&
  grep -q '"key"' "$work/keys-win.json" && ok "a new process unseals the key (keys show --show-keys)" || bad "keys show under Wine"
lws=$work/ws-from-linux
"$linux" keys gen Linux --workspace "$lws" >/dev/null 2>&1
"$linux" keys show Linux --show-keys --json --workspace "$lws" >"$work/keys-l1.json" 2>/dev/null
wine_run "$com" keys show Linux --show-keys --json --workspace "$(winpath "$lws")" >"$work/keys-l2.json" 2>/dev/null &&
  cmp -s "$work/keys-l1.json" "$work/keys-l2.json" && ok "a Linux workspace opens on Windows with the same keys" || bad "Linux workspace on Windows"
[[ $(cat "$lws/satchel.key") == *'"dpapi":'* ]] && ok "Windows resealed the Linux key file with DPAPI" || bad "Linux key file not resealed"
rc=0
"$linux" keys list --workspace "$lws" >/dev/null 2>"$work/sealed.err" || rc=$?
[[ $rc == 2 ]] && grep -q "DPAPI" "$work/sealed.err" && ok "Linux refuses the DPAPI-sealed key clearly: $(grep -m1 -o 'the key is sealed.*' "$work/sealed.err")" ||
  bad "Linux on a DPAPI workspace: exit $rc, $(cat "$work/sealed.err")"

# ---------------------------------------------------------------------------------------------
stage "4. license server under Wine"
port=$((20000 + RANDOM % 20000))
base=http://127.0.0.1:$port
wine_run "$com" serve --addr "127.0.0.1:$port" --content "$(winpath "$win_pkg")" --workspace "$(winpath "$ws")" \
  >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 60); do curl -fsS "$base/health" >/dev/null 2>&1 && break; sleep 1; done
if curl -fsS "$base/health" >/dev/null 2>&1; then
  ok "serve listens on $base"
  req="{\"kids\":[\"$(b64url "${KID[SD]}")\"],\"type\":\"temporary\"}"
  resp=$(curl -fsS -X POST -H 'Content-Type: application/json' --data "$req" "$base/clearkey" || true)
  [[ $resp == *"\"k\":\"$(b64url "${KEY[SD]}")\""* ]] && ok "ClearKey license over loopback carries the SD key" ||
    bad "ClearKey license: $resp"
  code=$(curl -s -o "$work/player.html" -w '%{http_code}' "$base/player/")
  [[ $code == 200 ]] && grep -qi "<html" "$work/player.html" && ok "demo player page served" || bad "demo player: HTTP $code"
  curl -fsS "$base/content/manifest.mpd" | cmp -s - "$win_pkg/manifest.mpd" && ok "package served at /content/" || bad "/content/manifest.mpd"
  "$linux" verify "$base/content/manifest.mpd" --license-url "$base" --keys "$win_pkg/keys.cpix.xml" \
    --workspace "$work/ws-linux-verify" >"$work/remote.txt" 2>&1 &&
    grep -A1 "^ClearKey license" "$work/remote.txt" | grep -q '\[PASS\] license .*issued' &&
    ok "Linux verify over HTTP against the Windows license server" || { bad "verify against the Windows server"; tail "$work/remote.txt" >&2; }
  rc=0
  wine_run "$com" keys list --workspace "$(winpath "$ws")" >/dev/null 2>"$work/lock.err" || rc=$?
  [[ $rc == 2 ]] && grep -q "in use" "$work/lock.err" && ok "workspace lock: a second process is refused while serve runs" ||
    bad "workspace lock: exit $rc $(cat "$work/lock.err")"
else
  bad "serve did not answer on $base"; tail "$work/serve.log" >&2
fi
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true

# ---------------------------------------------------------------------------------------------
stage "5. GUI under Xvfb + Wine"
n=$((100 + RANDOM % 400))
while [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]]; do n=$((n + 1)); done
disp=:$n
Xvfb "$disp" -screen 0 1280x832x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
sleep 1
kill -0 "$xvfb_pid" 2>/dev/null || bad "Xvfb did not start on $disp"
shot=$work/assets.png
grab() { ffmpeg -nostdin -v error -y -f x11grab -video_size 1280x832 -i "$disp" -frames:v 1 "$1"; }
ocr_until() { # ocr_until SECONDS WORD... : grab and OCR until every WORD shows; the text is in $work/ocr.txt
  local limit=$1 t0=$SECONDS w all; shift
  while ((SECONDS - t0 < limit)); do
    sleep 2
    grab "$shot" 2>/dev/null || continue
    tesseract "$shot" "$work/ocr" tsv >/dev/null 2>&1 || continue
    awk -F'\t' 'NR>1 && $12!="" {print $12}' "$work/ocr.tsv" >"$work/ocr.txt"
    all=1
    for w in "$@"; do grep -qF "$w" "$work/ocr.txt" || all=0; done
    ((all)) && return 0
  done
  return 1
}
# The sample ladder is copied to a Windows-style folder with a space in its name.
videos="$WINEPREFIX/drive_c/users/Public/Videos/Sample ladder"
mkdir -p "$videos"
cp testdata/media/ladder_*.mp4 "$videos/"
DISPLAY=$disp wine_run explorer /desktop=Satchel,1280x832 "$exe" --workspace "$(winpath "$work/ws-gui")" \
  --samples 'C:\users\Public\Videos\Sample ladder' >"$work/gui.log" 2>&1 &
gui_pid=$!
if ocr_until 180 Assets Ladder renditions ladder_240p.mp4 ladder_360p.mp4 ladder_720p.mp4 GOPs; then
  ok "GUI shows the Assets screen with the sample ladder (OCR)"
  # Click the first rendition (centre of its OCR word box), then expect its details: the probe's
  # description ("progressive MP4, …", "… 144 samples …"), words no other part of the screen shows.
  read -r x y < <(awk -F'\t' '$12=="ladder_240p.mp4" {print int($7+$9/2), int($8+$10/2); exit}' "$work/ocr.tsv")
  DISPLAY=$disp xdotool mousemove "$x" "$y" click 1 mousemove 1270 828
  ocr_until 60 progressive samples && ok "clicking a rendition shows its tracks and GOPs" || bad "rendition details after a click"
  mkdir -p dist/windows/screenshots
  cp "$shot" dist/windows/screenshots/assets.png
  [[ ${SATCHEL_UPDATE_SCREENSHOTS:-} == 1 ]] && cp "$shot" docs/screenshots/windows-assets.png && say "updated docs/screenshots/windows-assets.png"
else
  bad "GUI: the Assets screen with the ladder did not appear in 180 s; OCR read: $(tr '\n' ' ' <"$work/ocr.txt" 2>/dev/null | head -c 300)"
  tail -20 "$work/gui.log" >&2
fi
kill "$gui_pid" 2>/dev/null || true
wineserver -k 2>/dev/null || true

# ---------------------------------------------------------------------------------------------
stage "6. self-test: broken programs must fail"
size=$(stat -c %s "$com")
head -c $((size / 2)) "$com" >"$work/truncated.com"
core "$work/truncated.com" "$work/broken1" 2>"$work/broken1.err" && bad "a truncated satchel.com passed the checks" ||
  ok "a truncated satchel.com fails the checks ($(head -1 "$work/broken1.err"))"
# Same length replacement in the DASH namespace string: the program runs, its manifests differ.
perl -0777 -pe '$n += s/urn:mpeg:dash:schema:mpd:2011/urn:mpeg:dash:schema:mpd:2099/g; END { print STDERR "$n\n" }' \
  "$com" >"$work/patched.com" 2>"$work/patched.count"
if [[ $(cat "$work/patched.count") -ge 1 ]]; then
  core "$work/patched.com" "$work/broken2" 2>"$work/broken2.err" && bad "a satchel.com writing wrong manifests passed the checks" ||
    ok "a satchel.com writing wrong manifests fails the checks ($(grep -m1 differs "$work/broken2.err" || head -1 "$work/broken2.err"))"
else
  bad "self-test: the DASH namespace string is not in satchel.com any more; update the self-test"
fi

stage "done"
say "Windows smoke test ($wine_ver) in $((SECONDS - t_start)) s"
echo "windows: $passed passed, $failed failed"
((failed == 0))
