#!/usr/bin/env bash
# serve-cpu.sh: CPU time of `netwatch serve` per second of wall time, at
# 1 ms bins, scraped once a second (as one Prometheus server would).
#
#   sudo scripts/serve-cpu.sh [SECONDS] [netwatch serve flags...]
#   sudo scripts/serve-cpu.sh 30 -i lo --burst-threshold 1GB
#
# Builds netwatch, starts serve on 127.0.0.1:19977, lets it settle for 2 s,
# then reads utime+stime of the process (/proc/PID/stat) over SECONDS and
# prints milliseconds of CPU per second. Run as root (the ebpf backend).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
shift || true
[ $# -gt 0 ] || set -- -i lo
bin=$(mktemp -d)/netwatch
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/netwatch
"$bin" serve --listen 127.0.0.1:19977 --resolution 1ms "$@" &
pid=$!
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s.%N)
end=$(( $(date +%s) + secs ))
scrapes=0
while [ "$(date +%s)" -lt "$end" ]; do
  curl -sf -o /dev/null http://127.0.0.1:19977/metrics && scrapes=$((scrapes + 1))
  sleep 1
done
t1=$(ticks); s1=$(date +%s.%N)
awk -v t="$((t1 - t0))" -v hz="$hz" -v s0="$s0" -v s1="$s1" -v n="$scrapes" -v args="$*" 'BEGIN {
  printf "netwatch serve %s: %.2f ms CPU per second over %.0f s (%d scrapes)\n", args, 1000 * t / hz / (s1 - s0), s1 - s0, n }'
