#!/usr/bin/env bash
# Builds podtap-agent as a static executable (glibc, crt-static) for the agent
# image, checks that it is static and small enough, and prints its path and size.
#
#   agent/build-static.sh [extra cargo args, e.g. --locked]
#
# Environment:
#   AGENT_TARGET     target triple (default: the host's, as rustc reports it)
#   AGENT_OUT        also copy the binary to this path (the Dockerfile uses it)
#   AGENT_MAX_BYTES  size limit (default 4 MiB)
#
# `--target` is passed even for the host triple: with it, RUSTFLAGS apply only
# to the target artifacts and build scripts stay dynamic. The `agent` profile
# (root Cargo.toml) is `perf` (release with fat LTO) plus stripped symbols.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${AGENT_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
max_bytes=${AGENT_MAX_BYTES:-$((4 * 1024 * 1024))}

RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static" \
  cargo build --profile agent -p podtap-agent --target "$target" "$@"

bin="${CARGO_TARGET_DIR:-target}/$target/agent/podtap-agent"

# Reads the ELF header and program headers with od (coreutils, always there):
# a static or static-pie executable has no PT_INTERP (type 3) header, i.e. no
# dynamic loader. Only 64-bit little-endian ELF is expected here.
u() { od -An -t "u$2" -j "$1" -N "$2" "$bin" | tr -d ' '; }
[ "$(od -An -c -N 4 "$bin" | tr -d ' ')" = '177ELF' ] || { echo "$bin: not an ELF file" >&2; exit 1; }
[ "$(u 4 1)" = 2 ] && [ "$(u 5 1)" = 1 ] || { echo "$bin: not 64-bit little-endian ELF" >&2; exit 1; }
phoff=$(u 32 8)
phentsize=$(u 54 2)
phnum=$(u 56 2)
for ((i = 0; i < phnum; i++)); do
  if [ "$(u $((phoff + i * phentsize)) 4)" = 3 ]; then
    echo "$bin is dynamically linked (it has a PT_INTERP program header)" >&2
    exit 1
  fi
done

size=$(stat -c %s "$bin")
if [ "$size" -gt "$max_bytes" ]; then
  echo "$bin is $size bytes, more than the limit of $max_bytes" >&2
  exit 1
fi

if [ -n "${AGENT_OUT:-}" ]; then
  mkdir -p "$(dirname "$AGENT_OUT")"
  cp "$bin" "$AGENT_OUT"
fi
echo "static podtap-agent: $bin ($size bytes, $((size / 1024)) KiB)"
