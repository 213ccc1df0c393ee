#!/usr/bin/env bash
# podtap performance benchmark.
#
# Builds the `perf` profile (fat LTO), generates a synthetic capture with podtap-gen, then times the
# headless podtap pipeline, tshark and tcpdump on it (one core each when
# taskset exists) and compares podtap with the targets:
#   >= 1.5M packets/s, >= 30x tshark, peak RSS <= 150 MiB.
#
# Environment:
#   BENCH_PACKETS  packets to generate (default 1200000)
#   BENCH_SEED     generator seed (default 1)
#   BENCH_STRICT   1: exit 1 when podtap misses a target or cannot run
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PACKETS=${BENCH_PACKETS:-1200000}
SEED=${BENCH_SEED:-1}
OUT=bench/out
FILE=$OUT/synth-$PACKETS-seed$SEED.pcapng
mkdir -p "$OUT"

say() { printf '%s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
    say "GNU time (/usr/bin/time) is missing: installing it with 'apt-get install -y time'"
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y time >/dev/null || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
    else
        say "cannot install it here (need root and apt-get); install GNU time and rerun"
        exit 1
    fi
fi
PIN=()
if command -v taskset >/dev/null; then
    PIN=(taskset -c 0)
    say "pinning every measured command to CPU 0 (taskset -c 0)"
else
    say "taskset not found: commands run unpinned"
fi

# --- build -------------------------------------------------------------------
say "building the benchmarked binaries (cargo build --profile perf --no-default-features --features cli --bins)"
if ! cargo build --profile perf --no-default-features --features cli --bins; then
    say "the full release build failed; building podtap-gen alone so the reference tools can still be timed"
    cargo build --profile perf --no-default-features --features synth --bin podtap-gen
fi

# --- capture -----------------------------------------------------------------
say "generating $PACKETS packets into $FILE"
GEN_START=$(date +%s.%N)
SUMMARY=$(target/perf/podtap-gen --packets "$PACKETS" --seed "$SEED" -o "$FILE" 2>&1 >/dev/null)
GEN_END=$(date +%s.%N)
FILE_BYTES=$(stat -c %s "$FILE")
say "ground truth: $SUMMARY"
say "generation: $(awk -v s="$GEN_START" -v e="$GEN_END" -v n="$PACKETS" 'BEGIN { printf "%.2f s, %.0f packets/s", e - s, n / (e - s) }')"

# --- measurements --------------------------------------------------------------
# measure NAME COMMAND... : runs COMMAND with stdout to /dev/null under
# /usr/bin/time; sets SECS_<NAME>, RSS_<NAME> (KiB) or FAIL_<NAME>.
measure() {
    local name=$1
    shift
    local timing err status=0
    timing=$(mktemp)
    err=$(mktemp)
    say "timing $name: $*"
    /usr/bin/time -f '%e %M' -o "$timing" "${PIN[@]}" "$@" >/dev/null 2>"$err" || status=$?
    if [[ $status -ne 0 ]]; then
        printf -v "FAIL_$name" 'exit %s: %s' "$status" "$(grep -v '^Command exited' "$err" | head -n 1 | cut -c1-100)"
    else
        read -r secs rss <"$timing"
        printf -v "SECS_$name" '%s' "$secs"
        printf -v "RSS_$name" '%s' "$rss"
    fi
    rm -f "$timing" "$err"
}

# The headless front end may not exist yet: a binary that exits 0 but prints
# nothing for a capture full of HTTP exchanges is not a pipeline to time.
PROBE=$OUT/probe.pcapng
if [[ ! -x target/perf/podtap ]]; then
    FAIL_podtap="target/perf/podtap was not built"
elif ! target/perf/podtap-gen --packets 2000 --seed "$SEED" -o "$PROBE" 2>/dev/null; then
    FAIL_podtap="could not write the probe capture $PROBE"
elif ! probe_out=$(target/perf/podtap --read "$PROBE" --no-tui --format json 2>&1); then
    FAIL_podtap="headless mode not available: $(printf '%s' "$probe_out" | head -n 1 | cut -c1-100)"
elif [[ -z $probe_out ]]; then
    FAIL_podtap="headless mode not available: podtap printed nothing for a 2000-packet probe capture"
else
    measure podtap target/perf/podtap --read "$FILE" --no-tui --format json
fi
if command -v tshark >/dev/null; then
    measure tshark tshark -n -r "$FILE" -Y http.request -T fields -e http.request.uri
else
    FAIL_tshark="tshark is not installed"
fi
if command -v tcpdump >/dev/null; then
    measure tcpdump tcpdump -nn -r "$FILE" -w /dev/null
else
    FAIL_tcpdump="tcpdump is not installed"
fi

# --- report ------------------------------------------------------------------
rate() { # name -> packets/s, or empty
    local secs_var="SECS_$1"
    [[ -n ${!secs_var:-} ]] && awk -v s="${!secs_var}" -v n="$PACKETS" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.005) }'
}

echo
printf 'capture: %s (%d packets, %.1f MB)\n' "$FILE" "$PACKETS" "$(awk -v b="$FILE_BYTES" 'BEGIN { print b / 1e6 }')"
printf '%-8s %9s %14s %9s %14s  %s\n' tool wall_s packets/s MB/s peak_RSS_MiB note
for tool in podtap tshark tcpdump; do
    secs_var="SECS_$tool" rss_var="RSS_$tool" fail_var="FAIL_$tool"
    if [[ -n ${!secs_var:-} ]]; then
        awk -v t="$tool" -v s="${!secs_var}" -v r="${!rss_var}" -v n="$PACKETS" -v b="$FILE_BYTES" 'BEGIN {
            d = (s > 0 ? s : 0.005)
            printf "%-8s %9.2f %14.0f %9.1f %14.1f\n", t, s, n / d, b / 1e6 / d, r / 1024 }'
    else
        printf '%-8s %9s %14s %9s %14s  FAILED: %s\n' "$tool" - - - - "${!fail_var}"
    fi
done

P=$(rate podtap || true)
T=$(rate tshark || true)
D=$(rate tcpdump || true)
echo
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }' || echo "n/a"; }
echo "podtap/tshark rate:  $(ratio "$P" "$T")"
echo "podtap/tcpdump rate: $(ratio "$P" "$D")"

missed=0
if [[ -n $P ]]; then
    verdict() { if [[ $1 -eq 1 ]]; then echo "ok"; else echo "MISSED"; fi; }
    fast=$(awk -v p="$P" 'BEGIN { print (p >= 1500000) }')
    vs=$( [[ -n $T ]] && awk -v p="$P" -v t="$T" 'BEGIN { print (p >= 30 * t) }' || echo 0)
    lean=$(awk -v r="$RSS_podtap" 'BEGIN { print (r / 1024 <= 150) }')
    [[ $fast$vs$lean == 111 ]] || missed=1
    printf 'targets: >= 1.5M packets/s: %s (%s/s); >= 30x tshark: %s (%s); peak RSS <= 150 MiB: %s (%.1f MiB)\n' \
        "$(verdict "$fast")" "$P" "$(verdict "$vs")" "$(ratio "$P" "$T")" "$(verdict "$lean")" \
        "$(awk -v r="$RSS_podtap" 'BEGIN { print r / 1024 }')"
else
    missed=1
    echo "targets: not measured, podtap did not run ($FAIL_podtap)"
fi
if [[ ${BENCH_STRICT:-0} == 1 && $missed -ne 0 ]]; then
    exit 1
fi
