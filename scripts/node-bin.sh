#!/usr/bin/env bash
# Prints the folder of the official Node MAJOR binary (the npm package `node`), installing it
# under ~/.cache/backstage-backup/nodes/MAJOR on first use: Backstage apps run on Node 22 and 24.
#   PATH="$(scripts/node-bin.sh 22):$PATH" npm test -w pkg
set -euo pipefail
major=${1:?usage: scripts/node-bin.sh MAJOR}
dir="$HOME/.cache/backstage-backup/nodes/$major"
bin="$dir/node_modules/node/bin"
if [ ! -x "$bin/node" ]; then
  npm install --prefix "$dir" --no-audit --no-fund --silent "node@$major" >&2
fi
"$bin/node" --version | grep -q "^v$major\." || { echo "node-bin.sh: $bin/node is not Node $major" >&2; exit 1; }
echo "$bin"
