#!/usr/bin/env bash
# fyne-tool.sh prints the path of the pinned Fyne packaging tool, building it for this host first
# when it is missing. The tool is installed into a cache folder outside the checkout (so a
# cross-compiling build never runs a tool built for the target, and nothing lands in the tree).
set -euo pipefail
FYNE_TOOL_VERSION=v1.7.4 # fyne.io/tools; works with Go 1.26 and Fyne v2.7.1
dir="${SATCHEL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/satchel-tools}/fyne-$FYNE_TOOL_VERSION"
if [[ ! -x "$dir/fyne" ]]; then
  mkdir -p "$dir"
  echo "fyne-tool: installing fyne.io/tools/cmd/fyne@$FYNE_TOOL_VERSION into $dir" >&2
  GOOS= GOARCH= CGO_ENABLED=1 GOBIN="$dir" go install "fyne.io/tools/cmd/fyne@$FYNE_TOOL_VERSION" >&2
fi
echo "$dir/fyne"
