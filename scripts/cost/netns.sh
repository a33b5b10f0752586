#!/usr/bin/env bash
# netns.sh — what reading many network namespaces costs: for N named
# namespaces (each with lo and a veth pair to the next, like containers on a
# bridge-less host), `netwatch watch --netns ns1,...,nsN -n 1s` with the ebpf
# backend (1 ms bins) and with netlink. Reports per N and backend:
#   start   time from exec to the first sample, minus the 1 s interval
#           (opening a backend in every namespace: for ebpf loading and
#           attaching one program set per namespace)
#   CPU     time on CPU per second over WINDOW seconds of steady sampling
#           (all threads, /proc/PID/task/*/schedstat), ms/s
#   RSS     VmRSS at the end, MiB
#   rows    interfaces per sample (a check: 3 per namespace)
# Host interfaces are never touched; the namespaces are deleted at the end.
#
# Usage: sudo bash scripts/cost/netns.sh   (or: make cost-netns)
# Knobs: COUNTS="1 10 50" WINDOW=10 NETWATCH=path
set -euo pipefail

COUNTS=${COUNTS:-1 10 50}
WINDOW=${WINDOW:-10}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GO=${GO:-go}
die() { echo "netns: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, eBPF)"
[[ $WINDOW =~ ^[1-9][0-9]*$ ]] || die "WINDOW=$WINDOW: want a positive whole number"
for n in $COUNTS; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "COUNTS: $n is not a positive whole number"; done

WORK=$(mktemp -d /tmp/nwnetns.XXXXXX)
PREFIX=nwcostns$$-
NSES=()
cleanup() {
	for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=scripts/cost/lib.sh
. "$HERE/lib.sh"
build_netwatch

# make_namespaces N: namespaces PREFIX1..PREFIXN, lo up, a veth pair from
# each to the next (the last to the first), so every one has lo and two veths.
make_namespaces() {
	local n=$1 i
	for ((i = ${#NSES[@]} + 1; i <= n; i++)); do
		ip netns add "$PREFIX$i"
		ip -n "$PREFIX$i" link set lo up
		NSES+=("$PREFIX$i")
	done
	for ((i = 1; i <= n; i++)); do
		ip -n "$PREFIX$i" link del nwc-out 2>/dev/null || true
	done
	for ((i = 1; i <= n; i++)); do
		local next=$((i % n + 1))
		ip -n "$PREFIX$i" link add nwc-out type veth peer name nwc-in netns "$PREFIX$next"
		ip -n "$PREFIX$i" link set nwc-out up
		ip -n "$PREFIX$next" link set nwc-in up
	done
}

cpu_ns() { # total on-CPU nanoseconds of a process's threads
	local sum=0 t v
	for t in /proc/"$1"/task/*/schedstat; do
		read -r v _ <"$t" 2>/dev/null || continue
		sum=$((sum + v))
	done
	echo "$sum"
}

printf '%-10s %-8s %8s %10s %8s %6s\n' namespaces backend "start_s" "cpu_ms/s" "rss_MiB" rows
for n in $COUNTS; do
	make_namespaces "$n"
	list=$(IFS=,; echo "${NSES[*]:0:n}")
	for be in ebpf netlink; do
		out=$WORK/out.$n.$be
		t0=$(date +%s.%N)
		"$NETWATCH" watch --netns "$list" -b "$be" -n 1s -f ndjson -i lo -i 'nwc-*' >"$out" 2>"$WORK/err" &
		pid=$!
		while [[ ! -s $out ]]; do
			kill -0 "$pid" 2>/dev/null || { cat "$WORK/err" >&2; die "netwatch exited before its first sample"; }
			sleep 0.01
		done
		t1=$(date +%s.%N)
		c0=$(cpu_ns "$pid")
		sleep "$WINDOW"
		c1=$(cpu_ns "$pid")
		rss=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status)
		kill -INT "$pid"
		wait "$pid" || die "netwatch exited with $? ($(cat "$WORK/err"))"
		rows=$(head -1 "$out" | jq '.interfaces | length')
		awk -v n="$n" -v be="$be" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v w="$WINDOW" -v rss="$rss" -v rows="$rows" \
			'BEGIN { printf "%-10d %-8s %8.2f %10.2f %8.1f %6d\n", n, be, t1 - t0 - 1, (c1 - c0) / 1e6 / w, rss / 1024, rows }'
	done
done
