// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * netwatch: per-CPU byte and packet counters per interface and direction,
 * with optional in-kernel time bins. Programs only count and always pass the
 * packet (TC_ACT_UNSPEC / XDP_PASS).
 *
 * What is counted is what the wire carries, as a NIC's own counters do: the
 * L2 frame without FCS (plus an offloaded VLAN tag), and a GSO/GRO
 * super-packet as its gso_segs segments, each with its own headers. On a
 * device without a link-layer header at tc (tun, wireguard, ipip, sit, gre,
 * ppp: l2_len 0) a frame is the L3 packet, skb->len, as the device counts it.
 *
 * Maps (sizes are set by userspace at load time, see sizing.go):
 *   ifslots     ARRAY [ifindex & (NW_IFMAP - 1)] -> {ifindex, l2_len, slot}
 *   ifoverflow  HASH ifindex -> {ifindex, l2_len, slot}, for ifindexes
 *               whose ifslots entry is taken by another watched interface
 *               (rare; lookup-only)
 *               Userspace fills both for every attached interface; a packet
 *               on an ifindex found in neither is not counted.
 *   counters    ARRAY, mmapable [(slot * 2 + dir) * nr_cpus + cpu] -> struct nw_value
 *               for slots below NW_CHUNK_SLOTS; counter_chunks[slot >>
 *               NW_CHUNK_SHIFT] holds the same for later slots, one chunk of
 *               NW_CHUNK_SLOTS slots each, indexed by the slot's low bits.
 *               Userspace adds a chunk when it runs out of slots, while the
 *               programs run: elements never move, so counts stay exact.
 *               Per-CPU storage without a per-CPU map: each CPU only writes
 *               its own element, one cache line each, and userspace reads all
 *               of them through mmap without a system call. It holds the
 *               cumulative counts and the bin in progress on that CPU.
 *   counter_chunks  ARRAY_OF_MAPS [chunk] -> ARRAY like counters (chunk 0
 *               unused: the first slots use counters directly, one inlined
 *               lookup on the common path).
 *   binrb       ARRAY_OF_MAPS [0] -> RINGBUF of struct nw_rec (replaceable
 *               at run time): one record per completed bin of one
 *               element (interface, direction, CPU) that counted a packet,
 *               written when the CPU's first packet of a later bin arrives.
 *               Submitted with BPF_RB_NO_WAKEUP: the reader decides when to
 *               read (it polls the mapped positions, never epoll), so the
 *               kernel never wakes it. Memory follows activity: an idle
 *               interface writes nothing, and every watched interface has
 *               bins. Only sized when bins are on.
 *
 * The per-packet path is two array lookups (inlined by the verifier), a clock
 * read with bins on, and in-place adds to this CPU's element: no atomics, no
 * locks, no map updates. As with per-CPU maps, plain adds are exact because
 * the programs of one CPU do not nest: XDP and tc ingress run in softirq, tc
 * egress with bottom halves off. The ring buffer's lock is taken once per
 * bin change of an element, never per packet.
 *
 * A record that does not fit (the reader has not read for longer than the
 * ring buffer covers) is counted in the element as lost, by bin: lost_first
 * and lost_last are the first and last bin (as their end times) of the
 * latest run of records that did not fit. Records fail as a run: once the
 * ring buffer is full, every reservation fails until the reader consumes, so
 * between two reads no record succeeds after one failed. A new run starts
 * when the reader has accounted for the previous one (lost_ack, written by
 * userspace, >= lost_last); otherwise the run grows. The reader reports every
 * bin of [lost_first, lost_last] on that CPU as lost: the lost ones and any
 * the CPU counted nothing in (which it cannot tell apart without a record).
 *
 * Ordering contract with the userspace reader (binread_linux.go): the bin in
 * progress is identified by cur_end, its end time, stored after the finished
 * bin's record is submitted (or its loss recorded) and before the new bin's
 * counts. The reader loads an element's counts first, cur_end next and the
 * lost run last, and drains the ring buffer after all elements: so a reader
 * that sees cur_end past bin w finds w's record in the ring buffer (or w in
 * the lost run), and a reader that sees an old cur_end also sees that bin's
 * old counts; a new cur_end is the bin in progress (not complete, ignored).
 *
 * cur_end is the only store with ordering needs on the program side, and it
 * is an atomic exchange (BPF_XCHG, nw_set_end), which every JIT emits as a
 * full memory barrier: x86 xchg (implicitly locked), arm64 swpal with LSE or
 * an ldxr/stlxr loop followed by dmb ish without, and the equivalents on the
 * other weakly ordered architectures. So on every CPU the stores before the
 * exchange (the record, whose commit is itself an xchg in the kernel, and the
 * lost run) are visible before the new cur_end, and the stores after it (the
 * counts of the new bin) after it. The per-packet path stays plain loads and
 * stores: its counts are in a bin the reader ignores until cur_end moves on.
 * Needs BPF atomics (-mcpu=v3, kernel >= 5.12) and BPF ring buffers (5.8).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NW_DIR_RX 0
#define NW_DIR_TX 1
#define NW_NO_SLOT 0xffffffffU
#define NW_IFMAP 4096 /* entries of ifslots, a power of two */
#define NW_CHUNK_SHIFT 10 /* slots per counters chunk: 1024 */
#define NW_CHUNK_SLOTS (1U << NW_CHUNK_SHIFT)
#define NW_MAX_CHUNKS 64  /* so at most 65,536 slots, slot 0 unused */

/* Link-layer header bytes in front of the network header at tc. */
#define NW_L2_NONE 0        /* L3 devices: the packet starts with IP */
#define NW_L2_ETHER ETH_HLEN /* Ethernet (and lo): h_proto and VLAN tags parsed */
#define NW_L2_UNKNOWN 0xffffffffU /* a header netwatch cannot parse: no GSO header maths */

/* ifindex and l2_len share the first 8 bytes, which an update copies as one
 * word: a program that reads an entry while userspace rewrites it and finds
 * its ifindex also finds that interface's l2_len (slot may still be the old
 * value, 0 for a free entry, which userspace never hands out). */
struct nw_ifslot {
	__u32 ifindex; /* 0: free */
	__u32 l2_len;  /* NW_L2_NONE, NW_L2_ETHER or NW_L2_UNKNOWN, set by userspace */
	__u32 slot;
};

struct nw_value {
	__u64 bytes;       /* cumulative since the interface was attached */
	__u64 packets;
	__u64 cur_bytes;   /* the bin in progress on this CPU */
	__u64 cur_packets;
	__u64 cur_end;     /* end of the bin in progress: (bin + 1) * bin_width_ns; 0 = none */
	__u64 lost_first;  /* the latest run of bins whose record did not fit, */
	__u64 lost_last;   /* as bin end times; lost_last 0 = none */
	__u64 lost_ack;    /* written by userspace: the lost bins it has accounted for */
};                         /* one 64-byte cache line per element */

/* A completed bin of one element. */
struct nw_rec {
	__u64 end;     /* the bin's end time: (bin + 1) * bin_width_ns */
	__u64 bytes;
	__u32 packets;
	__u32 elem;    /* counters index: (slot * 2 + dir) * nr_cpus + cpu */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct nw_ifslot);
	__uint(max_entries, NW_IFMAP);
} ifslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory for the entries in use only */
	__type(key, __u32);
	__type(value, struct nw_ifslot);
	__uint(max_entries, NW_CHUNK_SLOTS * NW_MAX_CHUNKS);
} ifoverflow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct nw_value);
	__uint(max_entries, 1);
} counters SEC(".maps");

struct nw_chunk {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct nw_value);
	__uint(max_entries, 1); /* set by userspace: as counters */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, NW_MAX_CHUNKS);
	__array(values, struct nw_chunk);
} counter_chunks SEC(".maps");

/* The ring buffer of bin records sits in a one-entry map of maps, so that
 * userspace can replace it by a larger one (or put the first one in) while
 * the programs run. No ring buffer: every record is lost. */
struct nw_ringbuf {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* set by userspace */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 1);
	__array(values, struct nw_ringbuf);
} binrb SEC(".maps");

/* Set at load time. bin_width_ns == 0 turns bins off. */
volatile const __u32 nr_cpus = 1;
volatile const __u64 bin_width_ns = 0;

/* Stores a bin end with a full memory barrier (see the ordering contract). */
static __always_inline void nw_set_end(__u64 *p, __u64 end)
{
	__sync_lock_test_and_set(p, end);
}

/* Writes the finished bin of element idx as a record, or counts it lost. */
static __always_inline void nw_flush(struct nw_value *v, __u32 idx)
{
	if (v->cur_packets == 0)
		return;
	__u32 zero = 0;
	void *rb = bpf_map_lookup_elem(&binrb, &zero);
	struct nw_rec *r = rb ? bpf_ringbuf_reserve(rb, sizeof(*r), 0) : NULL;
	if (r) {
		r->end = v->cur_end;
		r->bytes = v->cur_bytes;
		r->packets = v->cur_packets;
		r->elem = idx;
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
		return;
	}
	if (v->lost_ack >= v->lost_last)
		v->lost_first = v->cur_end;
	v->lost_last = v->cur_end;
}

/* The entry of a watched interface, NULL for any other. */
static __always_inline struct nw_ifslot *nw_iface(__u32 ifindex)
{
	__u32 k = ifindex & (NW_IFMAP - 1);
	struct nw_ifslot *is = bpf_map_lookup_elem(&ifslots, &k);
	if (is && is->ifindex == ifindex)
		return is;
	return bpf_map_lookup_elem(&ifoverflow, &ifindex);
}

static __always_inline void nw_count(__u32 slot, __u32 dir, __u64 bytes, __u64 packets)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u32 idx = (slot * 2 + dir) * nr_cpus + cpu; /* in all chunks: what records carry */
	struct nw_value *v;
	if (slot < NW_CHUNK_SLOTS) {
		v = bpf_map_lookup_elem(&counters, &idx);
	} else {
		__u32 chunk = slot >> NW_CHUNK_SHIFT;
		void *m = bpf_map_lookup_elem(&counter_chunks, &chunk);
		if (!m)
			return;
		__u32 local = ((slot & (NW_CHUNK_SLOTS - 1)) * 2 + dir) * nr_cpus + cpu;
		v = bpf_map_lookup_elem(m, &local);
	}
	if (!v)
		return;
	v->bytes += bytes;
	v->packets += packets;

	__u64 width = bin_width_ns;
	if (width == 0)
		return;
	__u64 now = bpf_ktime_get_ns();
	if (now < v->cur_end) {
		v->cur_bytes += bytes;
		v->cur_packets += packets;
		return;
	}
	/* First packet of a new bin on this CPU: hand the finished one to the
	 * ring buffer, then start the new one (the only division). */
	nw_flush(v, idx);
	nw_set_end(&v->cur_end, (now / width + 1) * width);
	v->cur_bytes = bytes;
	v->cur_packets = packets;
}

/* Header length (L2 + L3 + L4) of a GSO packet, as qdisc_pkt_len_init
 * computes it. Reads only the headers, from the start of the packet at tc:
 * an Ethernet header (whose h_proto and VLAN tags give the L3 protocol) when
 * l2_len is NW_L2_ETHER, the L3 header itself (protocol from skb->protocol)
 * when it is NW_L2_NONE. Returns the bytes parsed so far when a header
 * cannot be read or the protocol has no known L4 header, and 0 for a link
 * layer netwatch cannot parse. (A GRE device without a remote builds its
 * outer IP and GRE header before tc egress: its segments are counted with
 * that outer header as their L3 header, an approximation.) */
static __always_inline __u32 nw_hdr_len(struct __sk_buff *skb, __u32 l2_len)
{
	__u32 off = 0;
	__be16 proto = skb->protocol;
	__u8 l4;

	if (l2_len == NW_L2_ETHER) {
		if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)))
			return 0;
		off = ETH_HLEN;
#pragma unroll
		for (int i = 0; i < 2; i++) {
			if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
				break;
			if (bpf_skb_load_bytes(skb, off + 2, &proto, sizeof(proto)))
				return off;
			off += 4;
		}
	} else if (l2_len != NW_L2_NONE) {
		return 0;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		__u8 vihl;
		if (bpf_skb_load_bytes(skb, off, &vihl, 1) ||
		    bpf_skb_load_bytes(skb, off + offsetof(struct iphdr, protocol), &l4, 1))
			return off;
		__u32 ihl = (vihl & 0x0f) * 4;
		if ((vihl >> 4) != 4 || ihl < sizeof(struct iphdr))
			return off;
		off += ihl;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		__u8 ver;
		if (bpf_skb_load_bytes(skb, off, &ver, 1) || (ver >> 4) != 6 ||
		    bpf_skb_load_bytes(skb, off + offsetof(struct ipv6hdr, nexthdr), &l4, 1))
			return off;
		off += sizeof(struct ipv6hdr);
		/* Extension headers, as far as sane. */
#pragma unroll
		for (int i = 0; i < 6; i++) {
			__u8 ext[2];
			__u32 len;
			if (l4 != IPPROTO_HOPOPTS && l4 != IPPROTO_ROUTING &&
			    l4 != IPPROTO_DSTOPTS && l4 != IPPROTO_FRAGMENT && l4 != IPPROTO_AH)
				break;
			if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
				return off;
			if (l4 == IPPROTO_FRAGMENT)
				len = 8;
			else if (l4 == IPPROTO_AH)
				len = ((__u32)ext[1] + 2) * 4;
			else
				len = ((__u32)ext[1] + 1) * 8;
			l4 = ext[0];
			off += len;
		}
	} else {
		return off;
	}

	if (l4 == IPPROTO_TCP) {
		__u8 doff;
		if (bpf_skb_load_bytes(skb, off + 12, &doff, 1))
			return off;
		return off + (doff >> 4) * 4;
	}
	if (l4 == IPPROTO_UDP)
		return off + sizeof(struct udphdr);
	return off;
}

static __always_inline int nw_tc(struct __sk_buff *skb, __u32 dir)
{
	struct nw_ifslot *is = nw_iface(skb->ifindex);
	if (!is)
		return TC_ACT_UNSPEC;
	__u32 slot = is->slot;
	__u32 l2_len = is->l2_len;
	__u64 bytes = skb->len;
	__u64 segs = skb->gso_segs;
	/* An offloaded VLAN tag is on the wire but not in skb->len. */
	__u32 vlan = skb->vlan_present ? 4 : 0;

	if (segs > 1 || (segs == 0 && skb->gso_size)) {
		__u32 hdr = nw_hdr_len(skb, l2_len);
		if (segs == 0) {
			/* Untrusted GSO (SKB_GSO_DODGY) may not carry a count. */
			__u32 size = skb->gso_size;
			segs = bytes > hdr ? (bytes - hdr + size - 1) / size : 1;
		}
		bytes += (segs - 1) * hdr;
	} else {
		segs = 1;
	}
	bytes += segs * vlan;
	nw_count(slot, dir, bytes, segs);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int netwatch_tc_in(struct __sk_buff *skb)
{
	return nw_tc(skb, NW_DIR_RX);
}

SEC("tc")
int netwatch_tc_eg(struct __sk_buff *skb)
{
	return nw_tc(skb, NW_DIR_TX);
}

/* xdp.frags: accepted on devices whose MTU needs multi-buffer frames;
 * bpf_xdp_get_buff_len counts all fragments. */
SEC("xdp.frags")
int netwatch_xdp(struct xdp_md *ctx)
{
	struct nw_ifslot *is = nw_iface(ctx->ingress_ifindex);
	if (is)
		nw_count(is->slot, NW_DIR_RX, bpf_xdp_get_buff_len(ctx), 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
