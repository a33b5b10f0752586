# lib.sh — setup, teardown and process helpers for compare.sh (sourced).
# Every process the script starts is recorded in STARTED and ended by its id.

STARTED=()
declare -A PID=()

log() { printf '== %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'compare: %s\n' "$*" >&2
	exit 1
}

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${STARTED[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${STARTED[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	# Deleting a namespace deletes the veth end inside it (and so the pair).
	ip netns del "$NS_S" 2>/dev/null || true
	ip netns del "$NS_R" 2>/dev/null || true
	if [[ ${KEEP:-} == 1 ]]; then
		echo "raw files kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}

# install_peers installs the peers and helpers that are missing (idempotent).
install_peers() {
	local want=() pkg bin
	for pkg in ifstat:ifstat bwm-ng:bwm-ng sysstat:sar bmon:bmon nload:nload jq:jq iproute2:ip \
		util-linux:script coreutils:stdbuf; do
		bin=${pkg#*:}
		command -v "$bin" >/dev/null || want+=("${pkg%%:*}")
	done
	((${#want[@]})) || return 0
	log "installing ${want[*]}"
	command -v apt-get >/dev/null || die "missing ${want[*]} and no apt-get to install them"
	DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q "${want[@]}" >"$WORK/apt.log" 2>&1 ||
		{ apt-get update -q >>"$WORK/apt.log" 2>&1 &&
			DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q "${want[@]}" >>"$WORK/apt.log" 2>&1; } ||
		die "apt-get install ${want[*]} failed; see $WORK/apt.log (KEEP=1 keeps it)"
}

build_binaries() {
	command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
	TGEN=$WORK/trafficgen
	log "building trafficgen${NETWATCH:+ (netwatch: $NETWATCH)}"
	(cd "$ROOT" && timeout 300 go build -o "$TGEN" ./scripts/compare/trafficgen) || die "go build trafficgen failed"
	if [[ -n ${NETWATCH:-} ]]; then
		NW=$NETWATCH
	else
		log "building netwatch"
		NW=$WORK/netwatch
		(cd "$ROOT" && timeout 300 go build -o "$NW" ./cmd/netwatch) || die "go build ./cmd/netwatch failed"
	fi
	[[ -x $NW ]] || die "netwatch binary $NW not executable"
}

# make_link creates the two namespaces and a quiet veth pair between them:
# IPv6 off before the links come up (no NDP/MLD), permanent neighbour
# entries (no ARP), so the link carries only the generated traffic.
make_link() {
	local ns mac_s mac_r
	log "namespaces $NS_S <-> $NS_R, veth $IF_S/$IF_R, $ADDR_S -> $ADDR_R"
	ip netns add "$NS_S"
	ip netns add "$NS_R"
	for ns in "$NS_S" "$NS_R"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip link add "$IF_S" netns "$NS_S" type veth peer name "$IF_R" netns "$NS_R"
	ip -n "$NS_S" addr add "$ADDR_S/30" dev "$IF_S"
	ip -n "$NS_R" addr add "$ADDR_R/30" dev "$IF_R"
	mac_s=$(ip netns exec "$NS_S" cat "/sys/class/net/$IF_S/address")
	mac_r=$(ip netns exec "$NS_R" cat "/sys/class/net/$IF_R/address")
	ip -n "$NS_S" neigh replace "$ADDR_R" lladdr "$mac_r" dev "$IF_S" nud permanent
	ip -n "$NS_R" neigh replace "$ADDR_S" lladdr "$mac_s" dev "$IF_R" nud permanent
	ip -n "$NS_S" link set "$IF_S" up
	ip -n "$NS_R" link set "$IF_R" up
}

# run_bg NAME GUARD_SECONDS NS CMD... starts CMD in namespace NS with its
# stdout in $WORK/NAME.out, line-buffered, killed after GUARD_SECONDS at most.
run_bg() {
	local name=$1 guard=$2 ns=$3
	shift 3
	ip netns exec "$ns" timeout -k 2 "$guard" stdbuf -oL "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	PID[$name]=$!
	STARTED+=($!)
}

# wait_for NAME... waits until each tool finished by itself (its count); a
# tool that hit its guard timeout or failed gets a warning, not an abort.
wait_for() {
	local name rc
	for name; do
		rc=0
		wait "${PID[$name]}" || rc=$?
		case $rc in
		0) ;;
		124 | 137) warn "$name: stopped by its time limit" ;;
		*) warn "$name: exit $rc: $(head -c 300 "$WORK/$name.err")" ;;
		esac
	done
}

# stop NAME... ends long-running tools (TERM through timeout, which forwards it).
stop() {
	local name
	for name; do
		kill -TERM "${PID[$name]}" 2>/dev/null || true
	done
	for name; do
		wait "${PID[$name]}" 2>/dev/null || true
	done
}

# wait_lines NAME N SECONDS waits until NAME printed N lines; fails after SECONDS.
wait_lines() {
	local name=$1 n=$2 deadline=$((SECONDS + $3))
	until (($(wc -l <"$WORK/$name.out") >= n)); do
		kill -0 "${PID[$name]}" 2>/dev/null || die "$name exited early: $(head -c 500 "$WORK/$name.err")"
		((SECONDS < deadline)) || die "$name printed nothing within $3 s: $(head -c 500 "$WORK/$name.err")"
		sleep 0.05
	done
}

start_listener() {
	run_bg listener 600 "$NS_R" "$TGEN" listen -addr "$ADDR_R:$PORT"
	wait_lines listener 1 10
}

# send NAME ARGS... runs the generator in the sender's namespace (bounded).
send() {
	local name=$1
	shift
	ip netns exec "$NS_S" timeout -k 2 120 "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" ||
		die "traffic generator failed: $(cat "$WORK/$name.err")"
}

# tree_pids PID prints PID and all its descendants.
tree_pids() {
	local p
	echo "$1"
	for p in $(pgrep -P "$1" 2>/dev/null); do
		tree_pids "$p"
	done
}

# cpu_ns PID prints the CPU time (ns, user+system, from each thread's
# schedstat) used so far by PID and its descendants; utime+stime in
# /proc/PID/stat are the same time in 10 ms ticks, too coarse here.
cpu_ns() {
	local total=0 p f v
	for p in $(tree_pids "$1"); do
		for f in /proc/"$p"/task/*/schedstat; do
			read -r v _ <"$f" 2>/dev/null || continue
			total=$((total + v))
		done
	done
	echo "$total"
}
