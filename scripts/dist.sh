#!/usr/bin/env bash
# dist.sh builds the desktop packages with the pinned Fyne packaging tool (scripts/fyne-tool.sh):
#   dist/Satchel.tar.xz               Linux: binary, icon and a .desktop file;
#   dist/Satchel-windows-amd64.zip    Windows: Satchel\satchel.exe (the app), Satchel\satchel.com
#                                     (the same program for terminals) and Satchel\README.txt
#                                     (docs/windows/README.txt), cross-compiled with mingw-w64 by
#                                     scripts/windows/build.sh (installs mingw-w64 when missing).
# FyneApp.toml supplies the ID, name, version, build number and icon. Builds run in a copy of the
# source tree: `fyne package` bumps Build in FyneApp.toml and writes temporary files into the
# source folder, and neither belongs in the checkout. macOS cannot be built here (no SDK): see
# docs/macos.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fyne=$(bash scripts/fyne-tool.sh)
mkdir -p dist
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
tar -c --exclude=./.git --exclude=./dist --exclude=./.tools --exclude=./testdata --exclude=./satchel . | tar -x -C "$src"
(cd "$src" && "$fyne" package -os linux -name Satchel -release)
mv -f "$src/Satchel.tar.xz" dist/
tar -tJf dist/Satchel.tar.xz | grep -E '\.desktop$|bin/'
echo "dist/Satchel.tar.xz"

bash scripts/windows/build.sh
stage=$(mktemp -d)
trap 'rm -rf "$src" "$stage"' EXIT
mkdir -p "$stage/Satchel"
cp dist/windows/satchel.exe dist/windows/satchel.com "$stage/Satchel/"
sed 's/$/\r/' docs/windows/README.txt >"$stage/Satchel/README.txt" # CRLF for Notepad on older Windows
rm -f dist/Satchel-windows-amd64.zip
(cd "$stage" && zip -q -9 -r "$root/dist/Satchel-windows-amd64.zip" Satchel)
listing=$(zip -sf dist/Satchel-windows-amd64.zip)
echo "$listing"
want=$'Satchel/\nSatchel/README.txt\nSatchel/satchel.com\nSatchel/satchel.exe'
got=$(grep -E '^ +Satchel' <<<"$listing" | sed 's/^ *//' | sort)
[[ $got == "$want" ]] || { echo "dist: unexpected zip contents (want only satchel.exe, satchel.com, README.txt)" >&2; exit 1; }
echo "dist/Satchel-windows-amd64.zip ($(du -m dist/Satchel-windows-amd64.zip | cut -f1) MB)"
