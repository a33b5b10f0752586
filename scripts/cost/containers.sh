#!/usr/bin/env bash
# containers.sh — what container labels cost. netwatch runs in a network
# namespace of its own playing a container host; CONTAINERS fake docker
# containers (a `sleep` in a fresh network namespace, in a cgroup
# .../system.slice/docker-<64 hex>.scope: all netwatch looks at) each get a
# veth whose host end is in that namespace. Reports:
#   scans   how often netwatch scanned /proc for labels (openat of /proc,
#           counted with strace) in SCAN_SECONDS of `watch -n 1s` on an idle
#           host: the code says at start, 1 s and 3 s later, then every 30 s
#           (and again on each interface change, which an idle host has none)
#   CPU     farm-bench, labels on vs off (--proc-root through a symlink to
#           /proc: any root but /proc turns the labels off), without and with
#           the containers: `watch -b netlink -n 1s -c SECONDS` and
#           `watch -b netlink -n 1ms -c 5000` (with the containers also with
#           `-i lo`: the scans alone, without the labels' share of the output)
#
# Usage: sudo bash scripts/cost/containers.sh
# Knobs: CONTAINERS=100 SECONDS_1S=35 SCAN_SECONDS=65 RUNS=3 NETWATCH=path
set -euo pipefail

CONTAINERS=${CONTAINERS:-100}
SECONDS_1S=${SECONDS_1S:-35}
SCAN_SECONDS=${SCAN_SECONDS:-65}
RUNS=${RUNS:-3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GO=${GO:-go}
die() { echo "containers: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, cgroups)"
for v in CONTAINERS SECONDS_1S SCAN_SECONDS RUNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v}: want a positive whole number"
done
for tool in farm-bench strace unshare ip; do
	command -v "$tool" >/dev/null || die "needs $tool"
done
CG=$(awk '$9 == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
[[ -n $CG ]] || die "needs a cgroup v2 hierarchy"

WORK=$(mktemp -d /tmp/nwctrcost.XXXXXX)
NS=nwctrcost$$
TOP=$CG/netwatch-cost-$$
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	for d in "$TOP"/system.slice/*/ "$TOP/system.slice" "$TOP"; do
		[[ -d $d ]] && rmdir "$d" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=scripts/cost/lib.sh
. "$HERE/lib.sh"
build_netwatch
ln -s /proc "$WORK/proc" # --proc-root "$WORK/proc": the same tree, labels off
ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }

# bench NAME ARGS...: labels on vs off, the median CPU seconds of each and
# their ratio.
bench() {
	local name=$1
	shift
	echo "== $name: watch $* (labels on vs off)"
	farm-bench -n "$RUNS" --timeout 3000 --vs "ip netns exec $NS $NETWATCH watch --proc-root $WORK/proc $*" \
		-- ip netns exec "$NS" "$NETWATCH" watch "$@" | grep -Ei 'cpu|ratio|runs'
}

bench "no containers, -n 1s" -b netlink -f ndjson -n 1s -c "$SECONDS_1S"
bench "no containers, -n 1ms" -b netlink -f ndjson -n 1ms -c 5000

HOSTNS=$(readlink /proc/self/ns/net)
TESTNS=$(ip netns exec "$NS" readlink /proc/self/ns/net)
echo "== starting $CONTAINERS fake docker containers, a veth each into $NS"
mkdir -p "$TOP/system.slice"
for i in $(seq 1 "$CONTAINERS"); do
	id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	dir=$TOP/system.slice/docker-$id.scope
	mkdir "$dir"
	unshare --net sleep 3600 &
	pid=$!
	PIDS+=("$pid")
	echo "$pid" >"$dir/cgroup.procs"
	# unshare makes the namespace, then execs sleep: wait until the
	# process is in a namespace of its own, never wire one still in ours.
	ctrns=
	for _ in $(seq 500); do
		ctrns=$(readlink "/proc/$pid/ns/net" 2>/dev/null) || ctrns=
		[[ -n $ctrns && $ctrns != "$HOSTNS" && $ctrns != "$TESTNS" ]] && break
		ctrns=
		sleep 0.01
	done
	[[ -n $ctrns ]] || die "container $i ($pid) has no namespace of its own after 5 s"
	ip -n "$NS" link add "nwc$i" type veth peer name eth0 netns "$pid"
	ip -n "$NS" link set "nwc$i" up
done
labelled=$(in_ns "$NETWATCH" snapshot --json -b netlink -w 10ms | grep -c '"container_id"' || true)
echo "labelled interfaces in one snapshot: $labelled (want $CONTAINERS)"

echo "== scans of /proc in $SCAN_SECONDS s of watch -n 1s (idle: no interface changes)"
in_ns timeout -s INT "$SCAN_SECONDS" strace -f -qq -e trace=openat -o "$WORK/strace" \
	"$NETWATCH" watch -b netlink -f ndjson -n 1s >/dev/null || true
scans=$(grep -c 'openat(AT_FDCWD, "/proc", O_RDONLY' "$WORK/strace" || true)
echo "scans: $scans (the code: at start, +1 s, +3 s, then every 30 s)"

bench "$CONTAINERS containers, -n 1s" -b netlink -f ndjson -n 1s -c "$SECONDS_1S"
bench "$CONTAINERS containers, -n 1ms" -b netlink -f ndjson -n 1ms -c 5000
# Only lo printed: the scans (which look at every veth) without the labels'
# share of the output.
bench "$CONTAINERS containers, -n 1ms, -i lo" -b netlink -f ndjson -n 1ms -c 5000 -i lo
