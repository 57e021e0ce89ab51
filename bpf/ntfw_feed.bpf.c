// SPDX-License-Identifier: GPL-2.0-only
/*
 * ntfw_feed: the eBPF producer of the fast-path summary records, beside
 * kmod/ntfw_kmod.c.  A BPF_PROG_TYPE_NETFILTER program (Linux 6.4 on),
 * attached by the daemon (src/bpffeed.c) with one BPF link per family and
 * hook, in the daemon's network namespace.  It records what the module
 * records, field for field (kmod/ntfw_ring.h), into a BPF ring buffer:
 *
 *  - packets of an established connection whose conntrack mark carries
 *    the fast-path bit, and which do not carry the bit in their own mark
 *    (that packet is the one that hands the connection over: the daemon
 *    saw it in the queue);
 *  - a forwarded packet once, at PRE_ROUTING; at POST_ROUTING only what
 *    the host sends itself (skb_iif 0).
 *
 * Differences from the module, all in the consumer's favour or neutral:
 *  - ts_ns is CLOCK_MONOTONIC here (bpf_ktime_get_ns(); there is no
 *    realtime clock helper); the consumer adds the realtime offset before
 *    a worker sees the record, so the records the workers get are alike.
 *  - an IPv6 extension header chain is walked for 8 headers at most (the
 *    verifier wants a bound); a longer chain is recorded like one that
 *    ends past the packet: no transport fields.
 *
 * Wakeups are batched: a record is submitted with BPF_RB_NO_WAKEUP, and
 * only when the unread data passes wake_bytes is the consumer woken
 * (BPF_RB_FORCE_WAKEUP).  The consumer also reads the ring every few
 * milliseconds on its own, so a quiet ring waits that long at most.
 * Reservations that fail (the ring is full) are counted in ntfw_lost,
 * a global the daemon reads through its mapping, without a syscall.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ntfw_vmlinux.h"
#include "../kmod/ntfw_ring.h"

/* The packet and connection mark bit of the fast path (src/conf.h). */
#define NTFW_FASTPATH_MARK 0x40000000u

#define NF_ACCEPT 1
#define NF_INET_POST_ROUTING 4
#define NFPROTO_IPV6 10
#define IP_CT_ESTABLISHED 0
#define IP_CT_ESTABLISHED_REPLY 3
#define IPS_TEMPLATE (1ul << 11)
#define NFCT_INFOMASK 7ul
#define ARPHRD_ETHER 1
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP_MAX_MTU 0xffff
#define IPV6_MAXPLEN 65535
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_NONE 59
#define NEXTHDR_DEST 60
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_WINDOW 3
#define TCPOLEN_WINDOW 3
#define TCP_OPT_MAX 40
#define TCP_WSCALE_MAX 14
#define EXTHDR_MAX 8
/* linux/icmp.h and icmpv6.h pull in the C library's headers. */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

/* Set by the loader before the load (read-only to the program). */
const volatile __u64 wake_bytes = 1 << 20;

/* Reservations that failed: the ring was full.  Read by the daemon. */
__u64 ntfw_lost;
/* Packets whose IP header could not be read. */
__u64 ntfw_unparsed;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);	/* the loader may set another size */
} ntfw_ring SEC(".maps");

/* kfuncs (net/core/filter.c), registered for this program type. */
extern int bpf_dynptr_from_skb(struct sk_buff *skb, __u64 flags,
			       struct bpf_dynptr *ptr__uninit) __ksym;

static __always_inline int rd(const struct bpf_dynptr *p, __u32 off,
			      void *buf, __u32 len)
{
	return bpf_dynptr_read(buf, len, p, off, 0);
}

static __always_inline int ext_hdr(__u8 nh)
{
	return nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING ||
	       nh == NEXTHDR_FRAGMENT || nh == NEXTHDR_AUTH ||
	       nh == NEXTHDR_NONE || nh == NEXTHDR_DEST;
}

/*
 * The window scale option of a SYN (RFC 7323), clamped to 14 as TCP does,
 * or 0xff when there is none; a malformed list ends the walk.  The
 * options at @off, @optlen bytes of them, are read a few bytes at a time:
 * the verifier refuses a read from the stack at a variable offset.
 */
static __always_inline __u8 tcp_wscale(const struct bpf_dynptr *p,
				       __u32 off, __u32 optlen)
{
	__u8 o[3];
	__u32 i = 0, k;

	if (!optlen || optlen > TCP_OPT_MAX)
		return 0xff;
	for (k = 0; k < TCP_OPT_MAX; k++) {
		if (i >= optlen)
			break;
		if (rd(p, off + i, o, 1) || o[0] == TCPOPT_EOL)
			break;
		if (o[0] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= optlen || rd(p, off + i, o, 2) || o[1] < 2 ||
		    i + o[1] > optlen)
			break;
		if (o[0] == TCPOPT_WINDOW && o[1] == TCPOLEN_WINDOW) {
			if (rd(p, off + i, o, 3))
				break;
			return o[2] < TCP_WSCALE_MAX ? o[2] : TCP_WSCALE_MAX;
		}
		i += o[1];
	}
	return 0xff;
}

/*
 * The transport header at @off of a whole packet or first fragment, @end
 * the IP length.  Payload bytes are what the IP length leaves past the
 * header, as the daemon counts them.
 */
static __always_inline void parse_l4(const struct bpf_dynptr *p, __u32 off,
				     __u32 end, struct ntfw_ring_rec *r)
{
	__u32 need, hlen;

	r->payload_len = end > off ? end - off : 0;
	switch (r->proto) {
	case IPPROTO_TCP:
		need = sizeof(struct tcphdr);
		break;
	case IPPROTO_UDP:
		need = sizeof(struct udphdr);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		need = 2;
		break;
	default:
		return;
	}
	if (off > end || end - off < need)
		return;

	if (r->proto == IPPROTO_TCP) {
		struct tcphdr th;

		if (rd(p, off, &th, sizeof(th)))
			return;
		r->sport = bpf_ntohs(th.source);
		r->dport = bpf_ntohs(th.dest);
		r->seq = bpf_ntohl(th.seq);
		r->ack = bpf_ntohl(th.ack_seq);
		r->tcp_flags = ((__u8 *)&th)[13];
		r->window = bpf_ntohs(th.window);
		hlen = th.doff * 4;
		if (hlen < sizeof(th))
			hlen = sizeof(th);
		if (hlen > end - off)
			hlen = end - off;
		if (th.syn)
			r->tcp_wscale = tcp_wscale(p, off + sizeof(th),
						   hlen - sizeof(th));
	} else if (r->proto == IPPROTO_UDP) {
		struct udphdr uh;

		if (rd(p, off, &uh, sizeof(uh)))
			return;
		r->sport = bpf_ntohs(uh.source);
		r->dport = bpf_ntohs(uh.dest);
		hlen = sizeof(uh);
	} else {
		__u8 ih[6];
		__u8 echo;

		if (rd(p, off, ih, 2))
			return;
		r->icmp_type = ih[0];
		r->icmp_code = ih[1];
		if (r->proto == IPPROTO_ICMP)
			echo = ih[0] == ICMP_ECHO || ih[0] == ICMP_ECHOREPLY;
		else
			echo = ih[0] == ICMPV6_ECHO_REQUEST ||
			       ih[0] == ICMPV6_ECHO_REPLY;
		/* The echo id doubles as both "ports": a ping is one flow. */
		if (echo && end - off >= 6 && !rd(p, off, ih, sizeof(ih)))
			r->sport = r->dport = (__u16)(ih[4] << 8 | ih[5]);
		hlen = end - off < 8 ? end - off : 8;
	}
	r->flags |= NTFW_REC_L4;
	r->payload_len = end - off - hlen;
}

static __always_inline int parse_ipv4(const struct bpf_dynptr *p,
				      __u32 skb_len, struct ntfw_ring_rec *r)
{
	struct iphdr iph;
	__u32 hlen;
	__u16 frag;

	if (rd(p, 0, &iph, sizeof(iph)) || iph.ihl < 5)
		return -1;
	hlen = iph.ihl * 4;
	r->family = 4;
	r->proto = iph.protocol;
	__builtin_memcpy(r->saddr, &iph.saddr, 4);
	__builtin_memcpy(r->daddr, &iph.daddr, 4);
	r->ip_len = bpf_ntohs(iph.tot_len);
	/* BIG TCP: a GSO packet past 64 KiB has a total length of 0. */
	if (!r->ip_len && skb_len > IP_MAX_MTU)
		r->ip_len = skb_len;
	frag = bpf_ntohs(iph.frag_off);
	if (frag & (IP_MF | IP_OFFSET))
		r->flags |= NTFW_REC_FRAG;
	if (frag & IP_OFFSET) {
		r->payload_len = r->ip_len > hlen ? r->ip_len - hlen : 0;
		return 0;
	}
	parse_l4(p, hlen, r->ip_len, r);
	return 0;
}

/*
 * The protocol as nft's meta l4proto finds it (ipv6_find_hdr() with no
 * target): the last header of the chain, a later fragment's next header
 * included.
 */
static __always_inline int parse_ipv6(const struct bpf_dynptr *p,
				      __u32 skb_len, struct ntfw_ring_rec *r)
{
	struct ipv6hdr ip6h;
	__u32 start = sizeof(ip6h), k;
	__u8 nh, hdr[2];
	__u16 fo;

	if (rd(p, 0, &ip6h, sizeof(ip6h)))
		return -1;
	r->family = 6;
	__builtin_memcpy(r->saddr, &ip6h.saddr, 16);
	__builtin_memcpy(r->daddr, &ip6h.daddr, 16);
	r->ip_len = sizeof(ip6h) + bpf_ntohs(ip6h.payload_len);
	/* BIG TCP and jumbograms: a payload length of 0. */
	if (r->ip_len == sizeof(ip6h) && skb_len > sizeof(ip6h) + IPV6_MAXPLEN)
		r->ip_len = skb_len;
	nh = ip6h.nexthdr;
	for (k = 0; k < EXTHDR_MAX; k++) {
		if (!ext_hdr(nh) || nh == NEXTHDR_NONE)
			goto found;
		if (rd(p, start, hdr, sizeof(hdr)))
			goto nochain;
		if (nh == NEXTHDR_FRAGMENT) {
			r->flags |= NTFW_REC_FRAG;
			if (rd(p, start + 2, &fo, sizeof(fo)))
				goto nochain;
			if (bpf_ntohs(fo) & ~7) {
				/* A later fragment: its data follows the
				 * fragment header's 8 bytes. */
				if (ext_hdr(hdr[0]) && hdr[0] != NEXTHDR_NONE)
					goto nochain;
				r->proto = hdr[0];
				if (start + 8 <= r->ip_len)
					r->payload_len = r->ip_len - (start + 8);
				return 0;
			}
			start += 8;
		} else if (nh == NEXTHDR_AUTH) {
			start += (hdr[1] + 2) << 2;
		} else {
			start += (hdr[1] + 1) << 3;
		}
		nh = hdr[0];
	}
nochain:
	/* A chain that ends past the packet (or past our bound). */
	r->proto = ip6h.nexthdr;
	r->payload_len = r->ip_len - sizeof(ip6h);
	return 0;
found:
	r->proto = nh;
	if (start > r->ip_len)
		return 0;
	if (nh == NEXTHDR_NONE) {
		r->payload_len = r->ip_len - start;
		return 0;
	}
	parse_l4(p, start, r->ip_len, r);
	return 0;
}

SEC("netfilter")
int ntfw_feed(struct bpf_nf_ctx *ctx)
{
	const struct nf_hook_state *st = ctx->state;
	struct sk_buff *skb = ctx->skb;
	const struct net_device *dev;
	struct skb_shared_info *sh;
	struct ntfw_ring_rec *r;
	struct bpf_dynptr p;
	unsigned long nfct;
	struct nf_conn *ct;
	__u32 ct_mark = 0, segs;
	__u8 post, hook = st->hook, pf = st->pf;
	__u64 flags;
	int rc;

	post = hook == NF_INET_POST_ROUTING;
	/* A forwarded packet is recorded once, at PRE_ROUTING. */
	if (post && skb->skb_iif)
		return NF_ACCEPT;
	nfct = skb->_nfct;
	ct = (struct nf_conn *)(nfct & ~NFCT_INFOMASK);
	if (ct && !(BPF_CORE_READ(ct, status) & IPS_TEMPLATE))
		ct_mark = BPF_CORE_READ(ct, mark);
	/* The fast path as the ruleset draws it: see ntfw_kmod.c. */
	if (!(ct_mark & NTFW_FASTPATH_MARK) || (skb->mark & NTFW_FASTPATH_MARK))
		return NF_ACCEPT;
	if ((nfct & NFCT_INFOMASK) != IP_CT_ESTABLISHED &&
	    (nfct & NFCT_INFOMASK) != IP_CT_ESTABLISHED_REPLY)
		return NF_ACCEPT;

	r = bpf_ringbuf_reserve(&ntfw_ring, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&ntfw_lost, 1);
		return NF_ACCEPT;
	}
	/* Zeroed whole: the padding reaches userspace with the record. */
	__builtin_memset(r, 0, sizeof(*r));
	r->tcp_wscale = 0xff;
	if (bpf_dynptr_from_skb(skb, 0, &p)) {
		rc = -1;
	} else if (pf == NFPROTO_IPV6) {
		rc = parse_ipv6(&p, skb->len, r);
	} else {
		rc = parse_ipv4(&p, skb->len, r);
	}
	if (rc) {
		__sync_fetch_and_add(&ntfw_unparsed, 1);
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return NF_ACCEPT;
	}
	r->ts_ns = bpf_ktime_get_ns();
	r->hook = post ? NTFW_REC_POST_ROUTING : NTFW_REC_PRE_ROUTING;
	r->ct_mark = ct_mark;
	r->flags |= NTFW_REC_FASTPATH;
	dev = post ? st->out : st->in;
	r->netns = BPF_CORE_READ(st, net, ns.inum);
	/* At these hooks skb->data is the IP header: add the link header
	 * the wire carries where it is Ethernet. */
	r->wire_len = skb->len;
	if (dev) {
		r->ifindex = BPF_CORE_READ(dev, ifindex);
		if (BPF_CORE_READ(dev, type) == ARPHRD_ETHER)
			r->wire_len += ETH_HLEN;
	}
	r->gso_segs = 1;
	sh = (struct skb_shared_info *)(skb->head + skb->end);
	r->gso_size = BPF_CORE_READ(sh, gso_size);
	if (r->gso_size) {
		segs = BPF_CORE_READ(sh, gso_segs);
		/* Some paths leave the count to the device: derive it. */
		if (!segs)
			segs = (r->payload_len + r->gso_size - 1) / r->gso_size;
		r->gso_segs = segs > 0xffff ? 0xffff : segs;
	}
	flags = BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_query(&ntfw_ring, BPF_RB_AVAIL_DATA) >= wake_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(r, flags);
	return NF_ACCEPT;
}

char LICENSE[] SEC("license") = "GPL";
