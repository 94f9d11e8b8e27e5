#!/usr/bin/env bash
# build.sh cross-compiles Satchel for Windows (amd64) into dist/windows/:
#   satchel.exe  the desktop app: GUI subsystem (no console window on double-click), app icon,
#                version resource and manifest from FyneApp.toml, built by `fyne package -os
#                windows -release` with cgo through mingw-w64 (Fyne's GLFW driver needs cgo);
#   satchel.com  the same program with the PE subsystem set to console, for terminals and
#                scripts: cmd and PowerShell pick .com before .exe (PATHEXT), so `satchel probe
#                ...` prints to the console and returns its exit status, which a GUI-subsystem
#                program cannot (the shell does not wait for it). Byte for byte the same code
#                and resources otherwise (as editbin /SUBSYSTEM:CONSOLE would make it).
# The build runs in a copy of the source tree, so `fyne package` (which writes fyne.syso and a
# metadata file into the source folder and bumps Build in FyneApp.toml) leaves the checkout alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bash scripts/windows/deps.sh
fyne=$(bash scripts/fyne-tool.sh)
out="$root/dist/windows"
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
tar -c --exclude=./.git --exclude=./dist --exclude=./.tools --exclude=./testdata --exclude='./satchel' . | tar -x -C "$src"
start=$SECONDS
(
  cd "$src"
  CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ GOOS=windows GOARCH=amd64 CGO_ENABLED=1 \
    "$fyne" package -os windows -name Satchel -release
)
mkdir -p "$out"
mv -f "$src/Satchel.exe" "$out/satchel.exe"

# The PE optional header's Subsystem field (2 = Windows GUI, 3 = console) is at e_lfanew + 0x5C.
pe_subsystem() { local lfanew; lfanew=$(od -An -tu4 -j60 -N4 "$1" | tr -d ' '); echo $((lfanew + 0x5C)); }
off=$(pe_subsystem "$out/satchel.exe")
sub=$(od -An -tu2 -j"$off" -N2 "$out/satchel.exe" | tr -d ' ')
[[ $sub == 2 ]] || { echo "build: satchel.exe has PE subsystem $sub, want 2 (GUI)" >&2; exit 1; }
cp -f "$out/satchel.exe" "$out/satchel.com"
printf '\x03\x00' | dd of="$out/satchel.com" bs=1 seek="$off" conv=notrunc status=none
[[ $(x86_64-w64-mingw32-objdump -p "$out/satchel.com") == *"(Windows CUI)"* ]] ||
  { echo "build: satchel.com is not a console program" >&2; exit 1; }
echo "build: dist/windows/satchel.exe and satchel.com ($(du -m "$out/satchel.exe" | cut -f1) MB each) in $((SECONDS - start)) s" >&2
