#!/usr/bin/env bash
# Makes a fresh machine ready: checks the toolchain, makes sure PostgreSQL is installed and
# running, and (with --s3) installs the SeaweedFS S3 server the tests start. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

want_s3=false
for arg in "$@"; do
  case "$arg" in
    --s3) want_s3=true ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }
apt_install() {
  say "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null || { say "cargo not found: install Rust with rustup (https://rustup.rs) and run again"; exit 1; }
for tool in gzip gunzip sha256sum; do
  command -v "$tool" >/dev/null || apt_install gzip coreutils
done

# Node (the engine package and, later, the Backstage plugins).
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

# PostgreSQL: server for the demo and the tests, pg_dump and psql for the tool itself.
if ! command -v pg_dump >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  if command -v apt-get >/dev/null; then apt_install postgresql postgresql-client; fi
fi
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_up; then
  for version in $(ls /etc/postgresql 2>/dev/null); do
    say "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { say "PostgreSQL is not answering on 127.0.0.1:5432; start it and run again"; exit 1; }

if $want_s3; then
  scripts/install-seaweedfs.sh >/dev/null
fi
