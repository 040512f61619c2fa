#!/usr/bin/env bash
# Fuzzes backstage-backup's parsers and stream verifier with cargo-fuzz (libFuzzer), each target
# for SECONDS (default 30). Exits non-zero when any target finds a crash; the crashing input is
# left in fuzz/artifacts/TARGET/ (replay: cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/FILE).
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs a nightly toolchain; installs cargo-fuzz into ~/.cargo/bin when it is missing. Builds in
# fuzz/target, or FUZZ_TARGET_DIR (never the normal target dir: the instrumented build would evict
# it). The corpus grows in fuzz/corpus/TARGET, starting from the committed seeds in
# fuzz/seeds/TARGET, with a dictionary of tokens per target in fuzz/dicts.
# FUZZ_SANITIZER=address runs with AddressSanitizer (slower; the default is none, since the core
# forbids unsafe code and the properties checked are panics and wrong answers).
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-30}
[ $# -gt 0 ] && shift
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
# Target and its longest input: enough for any real value of its kind, and some slack.
declare -A max_len=(
  [manifest]=16384
  [store_location]=1024
  [database_url]=1024
  [app_config]=4096
  [backup_id]=256
  [stream_verify]=8192
)
all=(manifest store_location database_url app_config backup_id stream_verify)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
for target in "${targets[@]}"; do
  if [ -z "${max_len[$target]:-}" ]; then
    echo "unknown fuzz target '$target'; known: ${all[*]}" >&2
    exit 2
  fi
done

cargo_fuzz_version=0.13.1
export PATH="$HOME/.cargo/bin:$PATH"
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz/run.sh needs a nightly toolchain (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version 2>/dev/null | grep -qF "$cargo_fuzz_version"; then
  echo "installing cargo-fuzz $cargo_fuzz_version into ~/.cargo/bin"
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked \
    || cargo install cargo-fuzz --version "$cargo_fuzz_version"
fi

export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target}"
sanitizer=${FUZZ_SANITIZER:-none}
cargo +nightly fuzz build --sanitizer "$sanitizer"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The app_config target writes its input there as a file.
export BACKSTAGE_BACKUP_FUZZ_TMP="$tmp"

failed=()
summary=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="$tmp/$target.log"
  echo "== fuzzing $target for ${seconds}s"
  status=0
  cargo +nightly fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len="${max_len[$target]}" -dict="dicts/$target.dict" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 </dev/null >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    failed+=("$target")
    summary+=("$target: CRASH after ${runs:-?} runs (${rate:-?}/s); input in fuzz/artifacts/$target/")
  else
    summary+=("$target: ${runs:-?} runs in ${seconds}s (${rate:-?}/s), no crash")
  fi
done

printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]}" >&2
  exit 1
fi
