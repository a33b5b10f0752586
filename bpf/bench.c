// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Empty programs of the same types and sections as netwatch.c, the baseline
 * for the per-packet cost benchmarks. Built into a separate object
 * (internal/backend/ebpf/bench_bpfel.o) so production does not carry them.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

SEC("xdp.frags")
int empty_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The clock read bins need on every packet, alone: the floor of the cost of
 * bins. The result is kept so the call is not optimised away. */
__u64 sink;

SEC("tc")
int clock_tc(struct __sk_buff *skb)
{
	sink = bpf_ktime_get_ns();
	return TC_ACT_UNSPEC;
}
