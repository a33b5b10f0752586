#!/usr/bin/env bash
# make soak: netwatch watch (ebpf, 1 ms bins) on a veth pair in a namespace
# of its own for DURATION (default 10m) with continuous UDP traffic and veth
# pairs created and deleted every second beside it. Prints a summary: lost
# bins, RSS and thread trend, and the counted totals against the kernel's.
# Root; nothing outside the namespace is touched.
# Usage: scripts/soak/soak.sh [DURATION]   (make soak SOAK=2m)
set -euo pipefail
cd "$(dirname "$0")/../.."
dur=${1:-${SOAK:-10m}}
secs=$(python3 -c "import re,sys;m=re.fullmatch(r'(\d+)([smh]?)',sys.argv[1]);print(int(m[1])*{'':1,'s':1,'m':60,'h':3600}[m[2]])" "$dur")
ns=netwatch-soak-$$
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

${GO:-go} build -o "$work/netwatch" ./cmd/netwatch
ip netns add "$ns"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link set lo up
ip -n "$ns" link add nws-a type veth peer name nws-b
ip -n "$ns" addr add 198.18.200.1/24 dev nws-a
ip -n "$ns" link set nws-a up
ip -n "$ns" link set nws-b up
kernel() { ip -n "$ns" -s -j link show nws-a | python3 -c 'import json,sys;s=json.load(sys.stdin)[0]["stats64"];print(s["tx"]["packets"],s["tx"]["bytes"],s["rx"]["packets"],s["rx"]["bytes"])'; }

"$work/netwatch" watch --netns "$ns" -b ebpf -r 1ms -n 1s -d "${secs}s" -f ndjson -i 'nws-*' >"$work/out.ndjson" 2>"$work/err" &
nw=$!; pids+=("$nw")
until [ -s "$work/out.ndjson" ] || ! kill -0 "$nw" 2>/dev/null; do sleep 0.1; done
read -r k0tp k0tb k0rp k0rb < <(kernel)   # netwatch counts from its attach: first sample ≥ this
# Traffic: UDP to an address behind nws-a (static neighbour: no ARP), about
# 2,000 datagrams a second in bursts.
ip -n "$ns" neigh add 198.18.200.2 lladdr 02:00:00:00:00:02 dev nws-a nud permanent
ip netns exec "$ns" python3 -c '
import socket,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
while True:
    for _ in range(20): s.sendto(b"x"*200,("198.18.200.2",9))
    time.sleep(0.01)' &
traffic=$!; pids+=("$traffic")
# Churn: a veth pair that matches the selection comes and goes every second.
(i=0; while :; do ip -n "$ns" link add "nws-c$i" type veth peer name "nws-d$i" && ip -n "$ns" link set "nws-c$i" up; sleep 0.5; ip -n "$ns" link del "nws-c$i"; sleep 0.5; i=$((i+1)); done) &
pids+=("$!")
# RSS and threads every 10 s.
(while kill -0 "$nw" 2>/dev/null; do awk '/^VmRSS|^Threads/{printf "%s ", $2} END{print ""}' "/proc/$nw/status" 2>/dev/null; sleep 10; done) >"$work/mem" &
pids+=("$!")

sleep $((secs > 5 ? secs - 5 : 1))
kill "$traffic"; wait "$traffic" 2>/dev/null || true   # quiet for the last seconds
status=0; wait "$nw" || status=$?
read -r k1tp k1tb k1rp k1rb < <(kernel)
python3 - "$work/out.ndjson" "$work/mem" "$status" "$k0tp" "$k1tp" "$k1tb" "$k0tb" "$dur" "$work/err" <<'PY'
import json, sys
out, mem, status, k0tp, k1tp, k1tb, k0tb, dur, err = sys.argv[1:]
samples = [json.loads(l) for l in open(out)]
lost = sum(i.get("lost_bins", 0) for s in samples for i in s["interfaces"])
names = {i["name"] for s in samples for i in s["interfaces"]}
last = next(i for i in samples[-1]["interfaces"] if i["name"] == "nws-a")
rows = [l.split() for l in open(mem) if l.strip()]
rss = [int(r[0]) for r in rows]; thr = [int(r[1]) for r in rows]
ktp, ktb = int(k1tp) - int(k0tp), int(k1tb) - int(k0tb)
print(f"soak {dur}: exit {status}, {len(samples)} samples, {len(names)} interface names seen")
print(f"lost bins: {lost}")
if rss:
        # Goroutines are not exported; OS threads stand in for them.
    print(f"RSS KiB: first {rss[0]}, max {max(rss)}, last {rss[-1]} ({len(rss)} readings); threads: first {thr[0]}, max {max(thr)}, last {thr[-1]}")
exact = last['tx_packets'] == ktp and last['tx_bytes'] == ktb
print(f"nws-a tx: netwatch {last['tx_packets']} packets {last['tx_bytes']} bytes since attach; kernel "
      f"{ktp} packets {ktb} bytes over the same time (the link is quiet until then): {'exact' if exact else 'DIFFER'}")
print(f"stderr: {open(err).read().strip()[:500] or '(empty)'}")
PY
