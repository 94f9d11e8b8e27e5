#!/usr/bin/env bash
# azurite.sh manages the Azurite blob emulator used by the publish tests.
#   scripts/azurite.sh install        install azurite (npm, pinned) into .tools/
#   scripts/azurite.sh start [PORT]   start azurite-blob on 127.0.0.1:PORT (default 10000), in memory
#   scripts/azurite.sh stop           stop the instance started by `start`
# The Go tests start their own instance on a free port (app/publish TestMain); this script is
# for installing it and for manual runs.
set -euo pipefail
cd "$(dirname "$0")/.."
AZURITE_VERSION=3.37.0
BIN=.tools/node_modules/.bin/azurite-blob
case "${1:-}" in
  install)
    if [[ -x $BIN ]] && grep -q "\"version\": \"$AZURITE_VERSION\"" .tools/node_modules/azurite/package.json 2>/dev/null; then
      exit 0
    fi
    command -v npm >/dev/null || { echo "azurite.sh: npm is required (install Node.js 18+)" >&2; exit 1; }
    mkdir -p .tools
    npm --prefix .tools install --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
    echo "azurite $AZURITE_VERSION installed in .tools/"
    ;;
  start)
    port=${2:-10000}
    [[ -x $BIN ]] || "$0" install
    nohup "$BIN" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence --disableTelemetry --skipApiVersionCheck --loose \
      >.tools/azurite.log 2>&1 &
    echo $! >.tools/azurite.pid
    for _ in $(seq 1 50); do
      if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "azurite listening on 127.0.0.1:$port"; exit 0; fi
      sleep 0.2
    done
    echo "azurite.sh: azurite did not start; see .tools/azurite.log" >&2; exit 1
    ;;
  stop)
    [[ -f .tools/azurite.pid ]] && kill "$(cat .tools/azurite.pid)" 2>/dev/null || true
    rm -f .tools/azurite.pid
    ;;
  *) echo "usage: $0 install|start [PORT]|stop" >&2; exit 2 ;;
esac
