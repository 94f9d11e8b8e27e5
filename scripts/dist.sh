#!/usr/bin/env bash
# dist.sh builds the Linux desktop package with the Fyne packaging tool (pinned):
# dist/Satchel.tar.xz with the binary, icon and a .desktop file (FyneApp.toml supplies the
# ID, name, version and icon).
#
# Other platforms (run on that platform, or cross-compile with fyne-cross):
#   macOS:   go run fyne.io/tools/cmd/fyne@v1.7.4 package -os darwin   → Satchel.app
#            (needs Xcode command-line tools; sign with `codesign` for distribution)
#   Windows: go run fyne.io/tools/cmd/fyne@v1.7.4 package -os windows  → Satchel.exe
#            (needs a MinGW gcc for cgo; sign the .exe with osslsigncode or signtool)
set -euo pipefail
cd "$(dirname "$0")/.."
FYNE_TOOL=fyne.io/tools/cmd/fyne@v1.7.4
mkdir -p dist
go run "$FYNE_TOOL" package -os linux -name Satchel -release
mv -f Satchel.tar.xz dist/
tar -tJf dist/Satchel.tar.xz | grep -E '\.desktop$|bin/' 
echo "dist/Satchel.tar.xz"
