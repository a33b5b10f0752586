#!/usr/bin/env bash
# pps.sh — what netwatch costs the host's packet path, end to end: UDP
# packets per second through a veth pair, from one namespace to another,
# with netwatch attached to both ends vs not attached, in interleaved rounds.
#
# As root, it creates two network namespaces (nwpps-snd-PID, nwpps-rcv-PID)
# joined by one veth pair (198.18.0.1 -> 198.18.0.2, static neighbour, IPv6
# off; host interfaces are never touched), builds netwatch and a small C
# flooder/sink (cc), and runs ROUNDS rounds; each round measures, in an order
# that rotates from round to round:
#   off    no netwatch
#   bins   `netwatch watch -n 1s` (default 1 ms bins) on each end, in its own
#          namespace (two processes: the sender's veth egress and the
#          receiver's veth ingress both run the programs)
#   res0   the same with --resolution 0 (counters only, no bins)
# The sender (sendmmsg, 64 datagrams of PAYLOAD bytes per call, as fast as it
# can) is pinned to CPU SND_CPU, the sink (recvmmsg) to RCV_CPU; netwatch is
# not pinned. The veth delivers in the sender's softirq, so the sender's CPU
# carries the whole path (UDP, veth, tc egress and ingress, IP, socket); that
# CPU is what the programs slow down.
# One flood runs for the whole script; netwatch is started (and the window
# begins once both processes printed a sample, i.e. attached at least 1 s
# ago) and stopped around it.
# Received pps = the receiving namespace's Udp InDatagrams (datagrams the sink
# read) over WINDOW seconds; sent pps from the sending
# namespace's Udp OutDatagrams; drops = Udp RcvbufErrors. The report gives the
# median of each condition over the rounds and its ratio to off's median,
# and the median of the per-round ratios (each round's windows are adjacent);
# and the sender's CPU time per packet sent (/proc/PID/schedstat), which on a
# shared host moves less than packets per second do.
# Target (issue 8): with 1 ms bins, <= 3% fewer packets per second than off.
# Exits 1 if missed, or if the off rounds alone spread by more than 9% (then
# the target cannot be judged: "INCONCLUSIVE"); TARGETS=0 only prints.
#
# Usage: sudo bash scripts/cost/pps.sh   (or: make cost-pps)
# Knobs: ROUNDS=5 WINDOW=5 (seconds) PAYLOAD=18 (bytes: 64-byte frames)
#        SND_CPU=0 RCV_CPU=1 NETWATCH=path TARGETS=1
set -euo pipefail

ROUNDS=${ROUNDS:-5}
WINDOW=${WINDOW:-5}
PAYLOAD=${PAYLOAD:-18}
SND_CPU=${SND_CPU:-0}
RCV_CPU=${RCV_CPU:-1}
TARGETS=${TARGETS:-1}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GO=${GO:-go}
die() { echo "pps: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, eBPF)"
for v in ROUNDS WINDOW PAYLOAD; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v}: want a positive whole number"
done

WORK=$(mktemp -d /tmp/nwpps.XXXXXX)
SND=nwpps-snd-$$
RCV=nwpps-rcv-$$
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$SND" 2>/dev/null || true
	ip netns del "$RCV" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -----------------------------------------------------------------
# shellcheck source=scripts/cost/lib.sh
. "$HERE/lib.sh"
build_netwatch
cat >"$WORK/udp.c" <<'C'
/* udp send ADDR PORT PAYLOAD: send datagrams as fast as sendmmsg allows.
 * udp recv PORT: read and discard datagrams with recvmmsg. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#define BATCH 64
int main(int argc, char **argv) {
	static char buf[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec v[BATCH];
	struct sockaddr_in a = {.sin_family = AF_INET};
	int s = socket(AF_INET, SOCK_DGRAM, 0), n = 1 << 22;
	if (s < 0 || argc < 3) return 2;
	memset(m, 0, sizeof m);
	if (strcmp(argv[1], "send") == 0 && argc == 5) {
		inet_pton(AF_INET, argv[2], &a.sin_addr);
		a.sin_port = htons(atoi(argv[3]));
		if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
		for (int i = 0; i < BATCH; i++) {
			v[i].iov_base = buf[i];
			v[i].iov_len = atoi(argv[4]);
			m[i].msg_hdr.msg_iov = &v[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		for (;;) sendmmsg(s, m, BATCH, 0);
	}
	a.sin_port = htons(atoi(argv[2]));
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &n, sizeof n);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
	for (int i = 0; i < BATCH; i++) {
		v[i].iov_base = buf[i];
		v[i].iov_len = sizeof buf[i];
		m[i].msg_hdr.msg_iov = &v[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) recvmmsg(s, m, BATCH, 0, NULL);
}
C
cc -O2 -o "$WORK/udp" "$WORK/udp.c" || die "build the UDP flooder (cc)"

# --- namespaces: one veth pair between them ---------------------------------
for ns in "$SND" "$RCV"; do
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$SND" link add nwp-a type veth peer name nwp-b netns "$RCV"
ip -n "$SND" addr add 198.18.0.1/24 dev nwp-a
ip -n "$RCV" addr add 198.18.0.2/24 dev nwp-b
ip -n "$SND" link set nwp-a up
ip -n "$RCV" link set nwp-b up
ip -n "$SND" neigh add 198.18.0.2 lladdr "$(ip -n "$RCV" -j link show nwp-b | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["address"])')" dev nwp-a nud permanent

ip netns exec "$RCV" taskset -c "$RCV_CPU" "$WORK/udp" recv 9000 &
PIDS+=("$!")

# udp NS FIELD: a field of the namespace's Udp line in /proc/net/snmp
udp() {
	ip netns exec "$1" awk -v f="$2" '/^Udp:/ {if (!h) {for (i = 1; i <= NF; i++) c[$i] = i; h = 1} else print $c[f]}' /proc/net/snmp
}
now() { date +%s%N; }
# cpu_ns PID: the process's time on CPU in ns (its softirq work included:
# this kernel has no IRQ time accounting, check /proc/config.gz)
cpu_ns() { awk '{print $1}' /proc/"$1"/schedstat; }

# start_netwatch RES: one netwatch per end; waits until both print a sample
# (programs attached, baseline taken).
NW=()
start_netwatch() {
	local res=$1 ns ifc i=0
	NW=()
	for spec in "$SND:nwp-a" "$RCV:nwp-b"; do
		ns=${spec%%:*} ifc=${spec#*:}
		"$NETWATCH" watch --netns "$ns" -b ebpf -i "$ifc" -n 1s --resolution "$res" -f ndjson \
			>"$WORK/nw$i.out" 2>"$WORK/nw$i.err" &
		NW+=("$!")
		PIDS+=("$!")
		i=$((i + 1))
	done
	local deadline=$((SECONDS + 20))
	for i in 0 1; do
		until [[ -s $WORK/nw$i.out ]]; do
			kill -0 "${NW[$i]}" 2>/dev/null || die "netwatch exited: $(cat "$WORK/nw$i.err")"
			((SECONDS < deadline)) || die "netwatch printed no sample in 20 s"
			sleep 0.1
		done
	done
}
stop_netwatch() {
	for p in "${NW[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${NW[@]}"; do wait "$p" 2>/dev/null || true; done
	NW=()
}

# measure LABEL: packets over one WINDOW of the running flood; appends
# "round label rx_pps tx_pps drops" to results
measure() {
	local label=$1 t0 r0 s0 d0 c0 t1 r1 s1 d1 c1
	kill -0 "$FLOOD" 2>/dev/null || die "the sender exited"
	t0=$(now) r0=$(udp "$RCV" InDatagrams) s0=$(udp "$SND" OutDatagrams) d0=$(udp "$RCV" RcvbufErrors) c0=$(cpu_ns "$FLOOD")
	sleep "$WINDOW"
	t1=$(now) r1=$(udp "$RCV" InDatagrams) s1=$(udp "$SND" OutDatagrams) d1=$(udp "$RCV" RcvbufErrors) c1=$(cpu_ns "$FLOOD")
	awk -v n="$ROUND" -v l="$label" -v t="$((t1 - t0))" -v r=$((r1 - r0)) -v s=$((s1 - s0)) -v d=$((d1 - d0)) -v c=$((c1 - c0)) \
		'BEGIN {printf "%d %-5s %9.0f %9.0f %7d %7.0f\n", n, l, r / t * 1e9, s / t * 1e9, d, c / s}' | tee -a "$WORK/results"
}

echo "pps: $("$NETWATCH" --version 2>/dev/null | head -1), $(nproc) CPUs, kernel $(uname -r)"
echo "pps: $ROUNDS rounds x 3 conditions x $WINDOW s; ${PAYLOAD}-byte UDP payloads, sender on CPU $SND_CPU, sink on CPU $RCV_CPU"
# One flood for the whole run (no start-up inside a window); netwatch is
# started and stopped around it.
ip netns exec "$SND" taskset -c "$SND_CPU" "$WORK/udp" send 198.18.0.2 9000 "$PAYLOAD" &
FLOOD=$!
PIDS+=("$FLOOD")
sleep 2
echo "round cond     rx_pps    tx_pps   drops  sender_cpu_ns/packet"
conds=(off bins res0)
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	for ((k = 0; k < 3; k++)); do
		case ${conds[$(((ROUND - 1 + k) % 3))]} in
		off) sleep 0.5; measure off ;;
		bins) start_netwatch 1ms; measure bins; stop_netwatch ;;
		res0) start_netwatch 0; measure res0; stop_netwatch ;;
		esac
	done
done
echo
python3 - "$WORK/results" "$TARGETS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by, rnd = {}, {}
cpr = {}
for n, c, rx, tx, d, ns in rows:
    by.setdefault(c, []).append((float(rx), float(tx), int(d), float(ns)))
    rnd.setdefault(int(n), {})[c] = float(rx)
    cpr.setdefault(int(n), {})[c] = float(ns)
med = {c: statistics.median(r[0] for r in v) for c, v in by.items()}
# Paired: each round's on/off ratio (the three windows of a round are
# adjacent, so slow drift of the shared host cancels), then the median.
paired = {c: statistics.median(r[c] / r["off"] for r in rnd.values()) for c in ("bins", "res0")}
paired["off"] = 1.0
names = {"off": "not attached", "bins": "watch -n 1s, 1 ms bins", "res0": "watch -n 1s, --resolution 0"}
# The sender's CPU time per packet sent: less sensitive to the sender being
# descheduled by other load than packets per second.
nsp = {c: statistics.median(r[3] for r in v) for c, v in by.items()}
nsp_paired = {c: statistics.median(r[c] / r["off"] for r in cpr.values()) for c in ("bins", "res0")}
nsp_paired["off"] = 1.0
print("medians over rounds             rx pps     tx pps  drops  rx vs off  per-round rx/off   sender ns/pkt  per-round ns/off")
for c in ("off", "bins", "res0"):
    v = by[c]
    print(f"  {names[c]:<28} {med[c]:>9.0f} {statistics.median(r[1] for r in v):>10.0f} "
          f"{statistics.median(r[2] for r in v):>6.0f} {(med[c] / med['off'] - 1) * 100:>+9.1f}%  "
          f"{paired[c]:.3f} ({(paired[c] - 1) * 100:+5.1f}%)  {nsp[c]:>13.0f}  "
          f"{nsp_paired[c]:.3f} ({(nsp_paired[c] - 1) * 100:+.1f}%)")
loss = (1 - med["bins"] / med["off"]) * 100
# How much the off windows alone vary: a 3% effect cannot be judged when the
# host moves the baseline by more than 3x that between rounds.
offs = [r[0] for r in by["off"]]
spread = (max(offs) - min(offs)) / med["off"] * 100
print(f"\nnoise: off rounds span {min(offs):.0f}..{max(offs):.0f} pps, {spread:.0f}% of their median; "
      f"load average {open('/proc/loadavg').read().split()[0]}")
print("\ntargets")
if spread > 9:
    ok = False
    print(f"  ????  1 ms bins: {-loss:+.1f}% packets per second vs off (medians): INCONCLUSIVE, the baseline "
          f"varies by {spread:.0f}% between rounds (target <= 3% fewer; rerun on a quiet host)")
else:
    ok = loss <= 3
    print(f"  {'ok  ' if ok else 'MISS'}  1 ms bins: {-loss:+.1f}% packets per second vs off, medians (target: no more than 3% fewer)")
sys.exit(0 if ok or sys.argv[2] != "1" else 1)
PY
