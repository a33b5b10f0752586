#!/usr/bin/env bash
# compare.sh — netwatch side by side with the tools people use today
# (ifstat, bwm-ng, sar, bmon, nload), on traffic whose truth is known.
#
# As root, it creates two network namespaces joined by a veth pair (addresses
# in 198.18.0.0/15 only; host interfaces are never touched), sends UDP traffic
# it generates itself (scripts/compare/trafficgen) from one to the other, and
# runs every tool inside the sender's namespace on the sender's veth end:
#   a. total bytes counted over a steady run vs the wire bytes sent;
#   b. 5 ms bursts at a known rate every 200 ms: reported peak vs true rate;
#   c. CPU time per second of sampling at 1 s, 100 ms and 10 ms intervals.
# Exits non-zero if netwatch's own claims fail: exact totals (ebpf) and the
# 1 ms peak within 5% of the true burst rate.
#
# Usage: sudo bash scripts/compare/compare.sh     (or: make compare)
# Knobs (environment): RATE=400Mbit BURST_MS=5 EVERY_MS=200 BURSTS=25
#   STEADY_RATE=200Mbit STEADY_S=4 SIZE=1400 CPU_WINDOW=8 (seconds per interval)
#   BURST_THRESHOLD=50Mbit KEEP=1 (keep raw files) NETWATCH=/path/to/netwatch (skip the build)
# Takes about 80 s here (2 CPUs).
set -euo pipefail

RATE=${RATE:-400Mbit}
BURST_MS=${BURST_MS:-5}
EVERY_MS=${EVERY_MS:-200}
BURSTS=${BURSTS:-25}
STEADY_RATE=${STEADY_RATE:-200Mbit}
STEADY_S=${STEADY_S:-4}
SIZE=${SIZE:-1400}
CPU_WINDOW=${CPU_WINDOW:-8}
BURST_THRESHOLD=${BURST_THRESHOLD:-50Mbit}
TOLERANCE=5                   # percent, netwatch 1 ms peak vs true burst rate
PORT=9000

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
for f in lib tools phases report; do
	# shellcheck source=/dev/null
	source "$HERE/$f.sh"
done
for v in BURST_MS EVERY_MS BURSTS STEADY_S SIZE CPU_WINDOW; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v}: want a positive whole number"
done

[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, eBPF, apt-get)"

WORK=$(mktemp -d /tmp/nwcompare.XXXXXX)
NS_S=nwcmp$$s
NS_R=nwcmp$$r
IF_S=nwc$$s
IF_R=nwc$$r
ADDR_S=198.18.0.1
ADDR_R=198.18.0.2
trap cleanup EXIT
trap 'exit 130' INT TERM

install_peers
build_binaries
make_link
start_listener

FAIL=()
phase_totals
phase_bursts
phase_cpu
print_report

if ((${#FAIL[@]})); then
	printf 'FAIL: %s\n' "${FAIL[@]}" >&2
	exit 1
fi
echo "PASS: netwatch totals exact, 1 ms peak within ${TOLERANCE}% of the true burst rate"
