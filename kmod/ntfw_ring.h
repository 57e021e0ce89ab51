/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * ntfw_ring.h: the packet summary ring, the ABI between a producer in the
 * kernel (kmod/ntfw_kmod.c, or an eBPF netfilter program) and the ntfw
 * daemon (src/).  Fixed-width types only, no pointers, no padding the
 * compiler chooses: the layout below is the contract.  Any change to it
 * changes NTFW_RING_VERSION; a consumer refuses a version it does not know.
 *
 * The mapping (/proc/ntfw/ring, mmap from offset 0):
 *   page 0                the header (struct ntfw_ring_hdr)
 *   pages 1 ..            nrec records of rec_size bytes, nrec a power of 2
 *
 * When the producer goes away (module unload), it stores 0 in magic: the
 * ring stops moving while the consumer's mapping stays valid; a consumer
 * that sees magic 0 unmaps and opens the file again.
 *
 * Indexes are free-running 64-bit counts of records; a record lives at
 * slot (index & (nrec - 1)).  The producer owns prod, the consumer owns
 * cons.  The producer writes a record, then publishes it with a store
 * release of prod; the consumer reads prod with a load acquire, reads the
 * records below it, then stores cons with a store release.  The producer
 * reads cons with a load acquire and never trusts it: a cons below
 * prod - nrec or above prod only means "full" (the record is dropped and
 * counted), never a write out of place.  The records are read-only to the
 * consumer; only cons is written by it.
 */
#ifndef NTFW_RING_H
#define NTFW_RING_H

/* The uapi types, in the kernel and in userspace alike. */
#include <linux/types.h>

#define NTFW_RING_MAGIC 0x6e746677u	/* "ntfw" */
#define NTFW_RING_VERSION 1u

/* Record flags */
#define NTFW_REC_FASTPATH 0x01	/* its connection carries the fast-path mark */
#define NTFW_REC_L4 0x02	/* ports, TCP fields valid */
#define NTFW_REC_FRAG 0x04	/* a fragment (no L4 fields when not first) */

/* Hooks, as NF_INET_* */
#define NTFW_REC_PRE_ROUTING 0
#define NTFW_REC_POST_ROUTING 4

struct ntfw_ring_rec {
	__u64 ts_ns;		/* CLOCK_REALTIME, ns (ktime_get_real_ns) */
	__u8 saddr[16];		/* IPv4 in the first 4 bytes, network order */
	__u8 daddr[16];
	__u32 ip_len;		/* IP total length (IPv6: 40 + payload) */
	__u32 wire_len;		/* skb->len at the hook plus the link header */
	__u32 payload_len;	/* transport payload bytes */
	__u32 seq;		/* TCP, host order */
	__u32 ack;
	__u32 ifindex;		/* in (PRE_ROUTING) or out (POST_ROUTING) */
	__u32 netns;		/* the namespace's inode number */
	__u16 sport;		/* host order; ICMP echo: the id in both */
	__u16 dport;
	__u16 window;		/* TCP window field, unscaled */
	__u16 gso_segs;		/* segments of a GSO packet, 1 otherwise */
	__u8 family;		/* 4 or 6 */
	__u8 proto;		/* transport protocol, after IPv6 extensions */
	__u8 tcp_flags;
	__u8 hook;		/* NTFW_REC_PRE_ROUTING / POST_ROUTING */
	__u8 flags;		/* NTFW_REC_* */
	__u8 tcp_wscale;	/* SYN's window scale option, 0xff: none */
	__u8 icmp_type;
	__u8 icmp_code;
	__u32 ct_mark;		/* the connection's mark, 0 without one */
	__u16 gso_size;		/* payload bytes per segment of a GSO packet,
				 * 0 otherwise: the consumer cuts it into the
				 * segments the wire carries */
	__u16 pad;
	__u32 pad2;		/* explicit: no tail padding for the compiler */
};				/* 96 bytes */

struct ntfw_ring_hdr {
	__u32 magic;		/* NTFW_RING_MAGIC */
	__u32 version;		/* NTFW_RING_VERSION */
	__u32 rec_size;		/* sizeof(struct ntfw_ring_rec) */
	__u32 nrec;		/* records in the ring, a power of 2 */
	__u32 rec_offset;	/* byte offset of record 0 in the mapping */
	__u32 pad0;
	__u64 pad1[5];
	/* Each index on a cache line of its own. */
	__u64 prod;		/* producer: records written */
	__u64 pad2[7];
	__u64 cons;		/* consumer: records read */
	__u64 pad3[7];
	__u64 dropped;		/* producer: records lost, the ring full */
	__u64 pad4[7];
};

#endif
