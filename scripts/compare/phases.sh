# phases.sh — the three measurements of compare.sh (sourced). Each phase
# runs all its tools at the same time, on the same traffic.

declare -A TOTAL=() PEAK=() SAMPLES=() HOW=() CPU=()

# collect PHASE TOOL NAME MS stores what NAME measured under PHASE:TOOL:MS.
collect() {
	local key=$1:$2:$4 total peak n how
	read -r total peak n how < <(measure "$2" "$3" "$4")
	TOTAL[$key]=$total PEAK[$key]=$peak SAMPLES[$key]=$n HOW[$key]=$how
}

gen() { jq -r "$2" "$WORK/$1.json"; }

# a. total bytes over a steady run, every tool at 1 s.
phase_totals() {
	local tools=(nw_ebpf nw_procfs ifstat bwmng sar bmon) t count=$((STEADY_S + 7))
	log "a. totals: $STEADY_RATE for ${STEADY_S}s of $SIZE-byte datagrams, tools at 1 s (~$((count + 2))s)"
	for t in "${tools[@]}"; do
		start_tool "$t" "a_$t" 1000 "$count" $((count + 30))
	done
	# Traffic starts after netwatch's first sample, so last - first is all of it.
	wait_lines a_nw_ebpf 1 30
	wait_lines a_nw_procfs 1 10
	send a_gen "$TGEN" send -dst "$ADDR_R:$PORT" -size "$SIZE" -rate "$STEADY_RATE" -burst "${STEADY_S}s" -bursts 1
	for t in "${tools[@]}"; do wait_for "a_$t"; done
	for t in "${tools[@]}"; do collect a "$t" "a_$t" 1000; done
	SENT_A=$(gen a_gen .wire_bytes)
	[[ ${TOTAL[a:nw_ebpf:1000]} == "$SENT_A" ]] ||
		FAIL+=("steady run: netwatch ebpf counted ${TOTAL[a:nw_ebpf:1000]} bytes, sent $SENT_A")
}

# b. bursts: 1 ms bins (netwatch ebpf) next to 1 s and 100 ms pollers.
PHASE_B=(nw_ebpf:1000 nw_procfs:1000 nw_procfs:100 ifstat:1000 ifstat:100 sar:1000 bwmng:1000 bwmng:100
	bmon:1000 bmon:100)

phase_bursts() {
	local attempt
	for attempt in 1 2 3; do
		run_bursts "$attempt"
		# The check is about netwatch, so the sender itself must have kept
		# its pace: its own 1 ms bins (same edges as netwatch's) near the
		# true rate. Otherwise the run says nothing; repeat it.
		if within "$(gen b_gen .peak_bin_rate_bytes_per_sec)" "$TRUE_RATE" "$TOLERANCE"; then
			break
		fi
		warn "attempt $attempt: the sender fell behind (max $(gen b_gen .max_late_ns) ns late); its own 1 ms peak" \
			"$(gen b_gen .peak_bin_rate_bytes_per_sec) B/s is off the true rate $TRUE_RATE B/s by more than ${TOLERANCE}%"
		((attempt < 3)) || FAIL+=("bursts: the sender could not keep its pace in 3 attempts (machine too busy?)")
	done
	B_ATTEMPTS=$attempt
	SENT_B=$(gen b_gen .wire_bytes)
	[[ ${TOTAL[b:nw_ebpf:1000]} == "$SENT_B" ]] ||
		FAIL+=("bursts: netwatch ebpf counted ${TOTAL[b:nw_ebpf:1000]} bytes, sent $SENT_B")
	within "${PEAK[b:nw_ebpf:1000]}" "$TRUE_RATE" "$TOLERANCE" ||
		FAIL+=("bursts: netwatch ebpf 1 ms peak ${PEAK[b:nw_ebpf:1000]} B/s vs true $TRUE_RATE B/s: off by more than ${TOLERANCE}%")
}

run_bursts() {
	local spec t ms count secs=$(((BURSTS * EVERY_MS + 999) / 1000 + 5)) pin=()
	log "b. bursts (attempt $1): ${BURST_MS} ms at $RATE every ${EVERY_MS} ms, $BURSTS times; tools at 1 s and 100 ms (~${secs}s)"
	for spec in "${PHASE_B[@]}"; do
		t=${spec%:*} ms=${spec#*:}
		count=$((secs * 1000 / ms))
		start_tool "$t" "b_${t}_$ms" "$ms" "$count" $((secs + 30))
	done
	wait_lines b_nw_ebpf_1000 1 30
	wait_lines b_nw_procfs_1000 1 10
	# Real-time priority on one CPU keeps the busy-wait pacing regular.
	command -v chrt >/dev/null && pin+=(chrt -f 50)
	command -v taskset >/dev/null && pin+=(taskset -c "$(($(nproc) - 1))")
	send b_gen "${pin[@]}" "$TGEN" send -dst "$ADDR_R:$PORT" -size "$SIZE" -rate "$RATE" \
		-burst "${BURST_MS}ms" -every "${EVERY_MS}ms" -bursts "$BURSTS"
	for spec in "${PHASE_B[@]}"; do wait_for "b_${spec%:*}_${spec#*:}"; done
	for spec in "${PHASE_B[@]}"; do
		collect b "${spec%:*}" "b_${spec%:*}_${spec#*:}" "${spec#*:}"
	done
	# True burst rate: bytes in a burst / its measured duration, over all bursts.
	TRUE_RATE=$(gen b_gen '[.bursts[].rate_bytes_per_sec] | add / length | floor')
}

# within VALUE REF PCT: |VALUE - REF| <= PCT% of REF.
within() {
	awk -v v="$1" -v r="$2" -v p="$3" 'BEGIN { d = v - r; if (d < 0) d = -d; exit !(r > 0 && d <= r * p / 100) }'
}

# c. CPU per second of sampling, idle link, every tool that allows the interval.
PHASE_C_TOOLS=(nw_ebpf nw_ebpf_coarse nw_procfs ifstat bwmng sar bmon nload)
PHASE_C_MS=(1000 100 10)

phase_cpu() {
	local ms
	for ms in "${PHASE_C_MS[@]}"; do
		run_cpu "$ms"
	done
}

run_cpu() {
	local ms=$1 t names=() c0 c1 w0 w1
	declare -A before=()
	log "c. CPU at ${ms} ms: ${CPU_WINDOW}s of sampling, all tools at once"
	for t in "${PHASE_C_TOOLS[@]}"; do
		supports "$t" "$ms" || continue
		start_tool "$t" "c_${t}_$ms" "$ms" 1000000 $((CPU_WINDOW + 40))
		names+=("$t")
	done
	# Leave start-up (BPF load, first reads) out of the window.
	wait_lines "c_nw_ebpf_$ms" 1 30
	sleep 1
	w0=$(date +%s%N)
	for t in "${names[@]}"; do before[$t]=$(cpu_ns "$(cpu_root "c_${t}_$ms" "$t")"); done
	sleep "$CPU_WINDOW"
	for t in "${names[@]}"; do
		c1=$(cpu_ns "$(cpu_root "c_${t}_$ms" "$t")")
		w1=$(date +%s%N)
		c0=${before[$t]}
		# ms of CPU per second of sampling
		CPU[$t:$ms]=$(awk -v c="$((c1 - c0))" -v w="$((w1 - w0))" 'BEGIN { printf "%.3f", c / w * 1000 }')
	done
	for t in "${names[@]}"; do
		kill -0 "${PID[c_${t}_$ms]}" 2>/dev/null || { warn "$t at ${ms} ms ended early: $(head -c 300 "$WORK/c_${t}_$ms.err")"; CPU[$t:$ms]=; }
	done
	local full=()
	for t in "${names[@]}"; do full+=("c_${t}_$ms"); done
	stop "${full[@]}"
}

# cpu_root NAME TOOL: the process whose tree is TOOL's cost (nload: the nload
# process, not the script(1) pseudo-terminal around it).
cpu_root() {
	local root=${PID[$1]} p
	if [[ $2 == nload ]]; then
		for p in $(tree_pids "$root"); do
			[[ $(cat "/proc/$p/comm" 2>/dev/null) == nload ]] && { echo "$p"; return; }
		done
	fi
	echo "$root"
}
