# tools.sh — how compare.sh runs each tool and reads its output (sourced).
# Every tool runs in the sender's namespace on $IF_S and reports the tx side.

# label TOOL prints the name shown in the tables.
label() {
	case $1 in
	nw_ebpf) echo "netwatch ebpf" ;;
	nw_ebpf_coarse) echo "netwatch ebpf, bins=interval" ;;
	nw_procfs) echo "netwatch procfs" ;;
	ifstat) echo "ifstat" ;;
	bwmng) echo "bwm-ng" ;;
	sar) echo "sar (sysstat)" ;;
	bmon) echo "bmon" ;;
	nload) echo "nload" ;;
	esac
}

# supports TOOL MS: whether TOOL can sample every MS milliseconds.
supports() {
	case $1 in
	sar) ((($2 % 1000) == 0)) ;;    # whole seconds only
	ifstat) (($2 >= 100)) ;;        # "bad or too short delay" below 0.1 s
	*) return 0 ;;
	esac
}

# seconds MS prints MS as seconds for tools that take a float.
seconds() { awk -v ms="$1" 'BEGIN { printf "%g", ms / 1000 }'; }

# start_tool TOOL NAME MS COUNT GUARD starts TOOL sampling every MS ms for
# COUNT samples (about), bounded by GUARD seconds.
start_tool() {
	local tool=$1 name=$2 ms=$3 count=$4 guard=$5 s
	s=$(seconds "$ms")
	case $tool in
	nw_ebpf)
		run_bg "$name" "$guard" "$NS_S" "$NW" watch -b ebpf -i "$IF_S" -n "${ms}ms" --resolution 1ms \
			--burst-threshold "${BURST_THRESHOLD:-50Mbit}" -f ndjson -c "$count" ;;
	nw_ebpf_coarse) # one bin per sample: the cost without 1 ms bins
		run_bg "$name" "$guard" "$NS_S" "$NW" watch -b ebpf -i "$IF_S" -n "${ms}ms" --resolution "${ms}ms" \
			-f ndjson -c "$count" ;;
	nw_procfs)
		run_bg "$name" "$guard" "$NS_S" "$NW" watch -b procfs -i "$IF_S" -n "${ms}ms" -f ndjson -c "$count" ;;
	ifstat) # KB/s (1024 bytes), no header repeats
		run_bg "$name" "$guard" "$NS_S" ifstat -n -i "$IF_S" "$s" "$count" ;;
	bwmng) # csv: ts;iface;bytes_out/s;bytes_in/s;bytes_total/s;bytes_in;bytes_out;...
		run_bg "$name" "$guard" "$NS_S" bwm-ng -o csv -t "$ms" -c "$count" -I "$IF_S" ;;
	sar)
		run_bg "$name" "$guard" "$NS_S" env LC_ALL=C S_TIME_FORMAT=ISO sar -n DEV --iface="$IF_S" "$s" "$count" ;;
	bmon)
		run_bg "$name" "$guard" "$NS_S" bmon -p "$IF_S" -r "$s" -R "$s" \
			-o "format:fmt=\$(element:name) \$(element:level) \$(attr:txrate:bytes) \$(attr:tx:bytes)\\n;quitafter=$count" ;;
	nload) # curses only: runs on a pseudo-terminal, output discarded (CPU row only)
		run_bg "$name" "$guard" "$NS_S" env TERM=xterm script -qfec "nload -t $ms -m $IF_S" /dev/null ;;
	*) die "unknown tool $tool" ;;
	esac
}

# measure TOOL NAME MS prints "TOTAL_BYTES PEAK_BYTES_PER_SEC SAMPLES HOW" from
# NAME's output: TOTAL from counters where the tool prints them, else from
# rate x interval; PEAK is the largest rate it reported.
measure() {
	local tool=$1 out=$WORK/$2.out ms=$3
	case $tool in
	nw_ebpf | nw_ebpf_coarse | nw_procfs)
		jq -rs --arg ifn "$IF_S" '
			[.[] | .interfaces[] | select(.name == $ifn)] as $s
			| if ($s | length) == 0 then "0 0 0 none" else
			"\($s[-1].tx_bytes - $s[0].tx_bytes) \([$s[] | (.tx_peak_bytes_per_sec // .tx_bytes_per_sec)] | max) \($s | length) counters" end' "$out" ;;
	ifstat)
		awk -v s="$(seconds "$ms")" '$1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9.]+$/ {
			r = $2 * 1024; t += r * s; if (r > p) p = r; n++ }
			END { printf "%.0f %.0f %d rate*time\n", t, p, n }' "$out" ;;
	bwmng)
		awk -F';' -v i="$IF_S" '$2 == i { t += $7; if ($3 + 0 > p) p = $3 + 0; n++ }
			END { printf "%.0f %.0f %d counters\n", t, p, n }' "$out" ;;
	sar)
		awk -v i="$IF_S" '$1 != "Average:" { for (f = 1; f < NF; f++) if ($f == i) {
			r = $(f + 4) * 1024; t += r; if (r > p) p = r; n++ } }
			END { printf "%.0f %.0f %d rate*time\n", t, p, n }' "$out" ;;
	bmon)
		# bmon lists the interface at two levels inside a namespace, one of
		# them empty: use the level whose counter moved most.
		awk -v i="$IF_S" '$1 == i { l = $2; if (!(l in n)) first[l] = $4; last[l] = $4; n[l]++
			if ($3 + 0 > p[l]) p[l] = $3 + 0 }
			END { b = -1; for (l in n) if (b < 0 || last[l] - first[l] > last[b] - first[b]) b = l
			if (b < 0) print "0 0 0 none"; else printf "%.0f %.0f %d counters\n", last[b] - first[b], p[b], n[b] }' "$out" ;;
	*) echo "0 0 0 none" ;;
	esac
}
