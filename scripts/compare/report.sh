# report.sh — the table and raw numbers of compare.sh (sourced).

mbit() { awk -v b="$1" 'BEGIN { printf "%.1f Mbit/s", b * 8 / 1e6 }'; }
pct() { awk -v v="$1" -v r="$2" 'BEGIN { if (r > 0) printf "%+.1f%%", (v - r) / r * 100; else print "-" }'; }
ivl() { if (($1 >= 1000)); then echo "$(($1 / 1000))s"; else echo "${1}ms"; fi; }

print_report() {
	local t ms key diff cells c ref line
	stop listener
	echo
	echo "netwatch side by side — veth $IF_S in a throwaway namespace, tx side; UDP payload $SIZE B = $((SIZE + 42)) wire bytes per datagram"
	echo

	echo "a. total bytes over a steady run ($STEADY_RATE for ${STEADY_S}s): sent $SENT_A wire bytes"
	printf '   %-29s %-9s %15s %16s  %s\n' tool interval counted "counted - sent" source
	for t in nw_ebpf nw_procfs ifstat bwmng sar bmon; do
		key=a:$t:1000
		diff=$((TOTAL[$key] - SENT_A))
		printf '   %-29s %-9s %15s %16s  %s\n' "$(label "$t")" 1s "${TOTAL[$key]}" \
			"$diff ($(pct "${TOTAL[$key]}" "$SENT_A"))" "${HOW[$key]}"
	done
	printf '   %-29s %-9s %15s %16s  %s\n' nload - n/a - "curses only: no non-interactive output"
	echo

	echo "b. peak rate: ${BURST_MS} ms bursts at $RATE every ${EVERY_MS} ms, $BURSTS times: true burst rate $(mbit "$TRUE_RATE")" \
		"(bytes / measured duration; sender's own 1 ms peak $(mbit "$(gen b_gen .peak_bin_rate_bytes_per_sec)"))"
	printf '   %-29s %-22s %16s %9s\n' tool "interval (resolution)" "peak reported" "vs true"
	for spec in "${PHASE_B[@]}"; do
		t=${spec%:*} ms=${spec#*:} key=b:${spec%:*}:${spec#*:}
		line="$(ivl "$ms")"
		[[ $t == nw_ebpf ]] && line="$(ivl "$ms") (1ms bins)"
		printf '   %-29s %-22s %16s %9s\n' "$(label "$t")" "$line" "$(mbit "${PEAK[$key]}")" "$(pct "${PEAK[$key]}" "$TRUE_RATE")"
	done
	printf '   %-29s %-22s %16s %9s\n' nload - n/a "-"
	echo

	echo "c. CPU per second of sampling, idle link (ms of CPU per s; x = ratio to netwatch ebpf with 1 ms bins at the same interval)"
	printf '   %-29s' tool
	for ms in "${PHASE_C_MS[@]}"; do printf ' %-20s' "$(ivl "$ms")"; done
	echo
	for t in "${PHASE_C_TOOLS[@]}"; do
		printf '   %-29s' "$(label "$t")"
		for ms in "${PHASE_C_MS[@]}"; do
			c=${CPU[$t:$ms]-} ref=${CPU[nw_ebpf:$ms]-}
			if ! supports "$t" "$ms"; then
				cells="n/a (min interval)"
			elif [[ -z $c ]]; then
				cells="failed"
			else
				cells="$c ($(awk -v c="$c" -v r="$ref" 'BEGIN { if (r > 0) printf "%.2gx", c / r; else print "-" }'))"
			fi
			printf ' %-20s' "$cells"
		done
		echo
	done
	[[ -n ${B_ATTEMPTS:-} && $B_ATTEMPTS -gt 1 ]] && echo "   (bursts needed $B_ATTEMPTS attempts: the sender fell behind its pace before)"
	echo

	echo "raw numbers"
	echo "  sender, steady:   $(jq -c 'del(.bursts)' "$WORK/a_gen.json")"
	echo "  sender, bursts:   $(jq -c 'del(.bursts)' "$WORK/b_gen.json")"
	echo "  burst rates B/s:  $(jq -c '[.bursts[].rate_bytes_per_sec | floor]' "$WORK/b_gen.json")"
	echo "  sender 1ms peaks: $(jq -c '[.bursts[].peak_bin_wire_bytes]' "$WORK/b_gen.json") wire bytes per bin"
	echo "  listener:         $(tail -n 1 "$WORK/listener.out")"
	for key in $(printf '%s\n' "${!TOTAL[@]}" | sort); do
		echo "  $key: total_bytes=${TOTAL[$key]} peak_bytes_per_sec=${PEAK[$key]} samples=${SAMPLES[$key]} (${HOW[$key]})"
	done
	echo "  netwatch ebpf burst samples: $(jq -c --arg i "$IF_S" '.interfaces[] | select(.name == $i) |
		[.tx_peak_bytes_per_sec, .tx_p99_bytes_per_sec, .tx_bursts]' "$WORK/b_nw_ebpf_1000.out" | tr '\n' ' ')(peak, p99, bins over ${BURST_THRESHOLD:-50Mbit})"
	for key in $(printf '%s\n' "${!CPU[@]}" | sort); do
		echo "  cpu $key: ${CPU[$key]} ms/s"
	done
}
