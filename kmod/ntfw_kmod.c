// SPDX-License-Identifier: GPL-2.0-only
/*
 * ntfw_kmod: summarise the packets the ntfw daemon no longer sees (its
 * connection was accepted for good and carries the fast-path mark, so the
 * ruleset accepts it in the kernel) into a ring that the daemon maps from
 * /proc/ntfw/ring.  The layout and the ordering contract of the ring are
 * in ntfw_ring.h; /proc/ntfw/stats has the counters.
 *
 * Hooks: PRE_ROUTING and POST_ROUTING, IPv4 and IPv6, in every network
 * namespace.  Nothing here sleeps or allocates on the packet path: a
 * record is built on the stack and copied into the ring under its lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cache.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/init.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <linux/timekeeping.h>
#include <linux/udp.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack.h>

#include "ntfw_ring.h"

#if !IS_ENABLED(CONFIG_NF_CONNTRACK) || !IS_ENABLED(CONFIG_NF_CONNTRACK_MARK)
#error "ntfw_kmod needs CONFIG_NF_CONNTRACK and CONFIG_NF_CONNTRACK_MARK"
#endif

/* The packet and connection mark bit of the fast path (src/conf.h). */
#define NTFW_FASTPATH_MARK 0x40000000u

#define NTFW_TCP_OPT_MAX 40	/* TCP option space */
#define NTFW_TCP_WSCALE_MAX 14	/* RFC 7323, as TCP clamps it */

#define NTFW_RING_MIN 64u
#define NTFW_RING_MAX (1u << 20)	/* 96 MiB of records */

/* The layout is the ABI: fail the build, not the consumer. */
static_assert(sizeof(struct ntfw_ring_rec) == 96);
static_assert(offsetof(struct ntfw_ring_rec, ct_mark) == 84);
static_assert(offsetof(struct ntfw_ring_hdr, prod) == 64);
static_assert(offsetof(struct ntfw_ring_hdr, cons) == 128);
static_assert(offsetof(struct ntfw_ring_hdr, dropped) == 192);
static_assert(sizeof(struct ntfw_ring_hdr) <= PAGE_SIZE);

/* ---- parameters ---- */

static unsigned int ring_records = 65536;
module_param(ring_records, uint, 0444);
MODULE_PARM_DESC(ring_records,
		 "records in the ring, a power of 2 from 64 to 1048576 (default 65536)");

/*
 * Read on every packet with READ_ONCE: changing it at run time through
 * /sys/module/ntfw_kmod/parameters/record takes effect at once.
 */
static bool record_all;

static int record_set(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "fastpath"))
		WRITE_ONCE(record_all, false);
	else if (sysfs_streq(val, "all"))
		WRITE_ONCE(record_all, true);
	else
		return -EINVAL;
	return 0;
}

static const char *record_name(void)
{
	return READ_ONCE(record_all) ? "all" : "fastpath";
}

static int record_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", record_name());
}

static const struct kernel_param_ops record_ops = {
	.set = record_set,
	.get = record_get,
};
module_param_cb(record, &record_ops, NULL, 0644);
MODULE_PARM_DESC(record,
		 "fastpath: only packets the ruleset accepts in the kernel for the fast path (default); all: every packet");

/* ---- the ring ---- */

/*
 * One ring for all CPUs and namespaces, because the ABI has one producer
 * index and the daemon one consumer.  Writers on several CPUs serialise on
 * @lock.  The critical section is two index loads, a 96-byte copy and a
 * store: a few tens of nanoseconds, so the lock costs less than the cache
 * line of the records it protects, which moves between the CPUs with or
 * without it.  A userspace model of this section (spinlock, acquire of
 * cons, 96-byte copy, release of prod, one consumer thread) moves 14 to 18
 * million records a second with one or two writers on a 2-CPU machine,
 * 55 to 70 ns a record; a 10 Gb/s link of full-size frames is 0.8 million
 * packets a second.  Per-CPU rings would scale further but need an ABI
 * with one index pair per CPU and a consumer that merges them by time;
 * one ring is enough, and keeps the consumer trivial.
 *
 * The lock is taken with spin_lock_bh: POST_ROUTING of a locally generated
 * packet runs in process context with bottom halves enabled (UDP sendmsg,
 * for one), and a softirq on the same CPU taking the lock there would
 * deadlock.
 *
 * The kernel keeps its own copies of prod and dropped: it writes them to
 * the shared header but never reads them back, since the header page is
 * writable by the consumer.  Only cons is read from it, and it is checked.
 */
struct ntfw_ring {
	struct ntfw_ring_hdr *hdr;	/* page 0 of the vmalloc_user area */
	struct ntfw_ring_rec *recs;	/* page 1 on */
	unsigned long size;		/* bytes of the area, whole pages */
	u32 mask;			/* nrec - 1 */
	spinlock_t lock;
	u64 prod ____cacheline_aligned_in_smp;	/* under @lock */
	u64 dropped;				/* under @lock */
};

static struct ntfw_ring ring;

/*
 * Counters, per CPU so that the packet path shares no line but the ring's.
 * Indexed by hook (0: PRE_ROUTING, 1: POST_ROUTING) and family (0: IPv4,
 * 1: IPv6).
 */
struct ntfw_stats {
	u64 written[2][2];
	u64 dropped[2][2];
	u64 seen[2][2];
	u64 unparsed;	/* the IP header could not be read */
};

static DEFINE_PER_CPU(struct ntfw_stats, ntfw_stats);
static atomic_t ntfw_readers = ATOMIC_INIT(0);
static atomic64_t ntfw_mmaps = ATOMIC64_INIT(0);

/*
 * Copy @rec into the next slot, or count it as dropped when the ring is
 * full.  Never overwrites a record the consumer has not released.
 */
static bool ntfw_ring_put(const struct ntfw_ring_rec *rec)
{
	struct ntfw_ring_hdr *hdr = ring.hdr;
	u64 prod, cons;
	bool ok = false;

	spin_lock_bh(&ring.lock);
	prod = ring.prod;
	/*
	 * Acquire pairs with the consumer's store release of cons: its reads
	 * of every record below cons are done before we overwrite one of
	 * them.  cons is whatever userspace wrote.  With unsigned arithmetic
	 * a cons above prod gives a huge difference, and a cons below
	 * prod - nrec one above nrec: both read as "full", so a bad cons
	 * costs records, never a write out of place (the slot index is
	 * masked anyway).
	 */
	cons = smp_load_acquire(&hdr->cons);
	if (prod - cons < (u64)ring.mask + 1) {
		memcpy(&ring.recs[prod & ring.mask], rec, sizeof(*rec));
		ring.prod = prod + 1;
		/*
		 * Release: the record is written before the consumer, which
		 * loads prod with acquire, can see the index that covers it.
		 */
		smp_store_release(&hdr->prod, prod + 1);
		ok = true;
	} else {
		ring.dropped++;
		/* A counter only: no record hangs on it, no ordering. */
		WRITE_ONCE(hdr->dropped, ring.dropped);
	}
	spin_unlock_bh(&ring.lock);
	return ok;
}

/* ---- parsing ---- */

static bool ntfw_icmp_echo(u8 proto, u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
	return type == ICMPV6_ECHO_REQUEST || type == ICMPV6_ECHO_REPLY;
}

/*
 * The window scale option of a SYN (RFC 7323), clamped to 14 as TCP does,
 * or 0xff when there is none; a malformed list ends the walk.
 */
static u8 ntfw_tcp_wscale(const struct sk_buff *skb, unsigned int off,
			  unsigned int optlen)
{
	u8 buf[NTFW_TCP_OPT_MAX];
	const u8 *o;
	unsigned int i = 0;

	if (!optlen || optlen > sizeof(buf))
		return 0xff;
	o = skb_header_pointer(skb, off, optlen, buf);
	if (!o)
		return 0xff;
	while (i < optlen) {
		if (o[i] == TCPOPT_EOL)
			break;
		if (o[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= optlen || o[i + 1] < 2 || i + o[i + 1] > optlen)
			break;
		if (o[i] == TCPOPT_WINDOW && o[i + 1] == TCPOLEN_WINDOW)
			return min_t(u8, o[i + 2], NTFW_TCP_WSCALE_MAX);
		i += o[i + 1];
	}
	return 0xff;
}

/*
 * The transport header at @off of a whole packet or first fragment, @end
 * the IP length.  Payload bytes are what the IP length leaves past the
 * header, as the daemon counts them.
 */
static void ntfw_parse_l4(const struct sk_buff *skb, unsigned int off,
			  unsigned int end, struct ntfw_ring_rec *r)
{
	unsigned int need, hlen;

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
		need = 2;	/* type and code */
		break;
	default:
		return;
	}
	/* The IP length cuts the header short: no transport fields. */
	if (off > end || end - off < need)
		return;

	switch (r->proto) {
	case IPPROTO_TCP: {
		struct tcphdr _th;
		const struct tcphdr *th;

		th = skb_header_pointer(skb, off, sizeof(_th), &_th);
		if (!th)
			return;
		r->sport = ntohs(th->source);
		r->dport = ntohs(th->dest);
		r->seq = ntohl(th->seq);
		r->ack = ntohl(th->ack_seq);
		r->tcp_flags = tcp_flag_byte(th);
		r->window = ntohs(th->window);
		/*
		 * A data offset below 5 or past the packet does not hide the
		 * ports; the payload starts where it says, within bounds.
		 */
		hlen = max_t(unsigned int, th->doff * 4, sizeof(*th));
		hlen = min(hlen, end - off);
		if (th->syn)
			r->tcp_wscale = ntfw_tcp_wscale(skb, off + sizeof(*th),
							hlen - sizeof(*th));
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr _uh;
		const struct udphdr *uh;

		/*
		 * The UDP length is not checked: Linux reads the ports of
		 * a datagram whatever it says, and so does nft.
		 */
		uh = skb_header_pointer(skb, off, sizeof(_uh), &_uh);
		if (!uh)
			return;
		r->sport = ntohs(uh->source);
		r->dport = ntohs(uh->dest);
		hlen = sizeof(*uh);
		break;
	}
	default: {
		/* Type, code, checksum, and the echo identifier. */
		u8 _ih[6];
		const u8 *ih;

		ih = skb_header_pointer(skb, off, 2, _ih);
		if (!ih)
			return;
		r->icmp_type = ih[0];
		r->icmp_code = ih[1];
		/* The echo id doubles as both "ports": a ping is one flow. */
		if (ntfw_icmp_echo(r->proto, ih[0]) && end - off >= 6) {
			ih = skb_header_pointer(skb, off, sizeof(_ih), _ih);
			if (ih)
				r->sport = r->dport = (u16)(ih[4] << 8 | ih[5]);
		}
		hlen = min(8u, end - off);
		break;
	}
	}
	r->flags |= NTFW_REC_L4;
	r->payload_len = end - off - hlen;
}

static bool ntfw_parse_ipv4(const struct sk_buff *skb, struct ntfw_ring_rec *r)
{
	unsigned int nhoff = skb_network_offset(skb), hlen;
	struct iphdr _iph;
	const struct iphdr *iph;
	u16 frag;

	iph = skb_header_pointer(skb, nhoff, sizeof(_iph), &_iph);
	if (!iph || iph->ihl < 5)
		return false;
	hlen = iph->ihl * 4;
	r->family = 4;
	r->proto = iph->protocol;
	memcpy(r->saddr, &iph->saddr, 4);
	memcpy(r->daddr, &iph->daddr, 4);
	r->ip_len = ntohs(iph->tot_len);
	/* BIG TCP: a GSO packet past 64 KiB has a total length of 0. */
	if (!r->ip_len && skb->len - nhoff > IP_MAX_MTU)
		r->ip_len = skb->len - nhoff;
	frag = ntohs(iph->frag_off);
	if (frag & (IP_MF | IP_OFFSET))
		r->flags |= NTFW_REC_FRAG;
	if (frag & IP_OFFSET) {
		/* A later fragment: no transport header to read. */
		r->payload_len = r->ip_len > hlen ? r->ip_len - hlen : 0;
		return true;
	}
	ntfw_parse_l4(skb, nhoff + hlen, nhoff + r->ip_len, r);
	return true;
}

static bool ntfw_parse_ipv6(const struct sk_buff *skb, struct ntfw_ring_rec *r)
{
	unsigned int nhoff = skb_network_offset(skb), thoff = 0;
	unsigned short fragoff = 0;
	int fragflg = 0, proto, start;
	struct ipv6hdr _ip6h;
	const struct ipv6hdr *ip6h;
	__be16 fo;
	u8 nh;

	ip6h = skb_header_pointer(skb, nhoff, sizeof(_ip6h), &_ip6h);
	if (!ip6h)
		return false;
	r->family = 6;
	memcpy(r->saddr, &ip6h->saddr, 16);
	memcpy(r->daddr, &ip6h->daddr, 16);
	r->ip_len = sizeof(*ip6h) + ntohs(ip6h->payload_len);
	/* BIG TCP and jumbograms: a payload length of 0. */
	if (r->ip_len == sizeof(*ip6h) &&
	    skb->len - nhoff > sizeof(*ip6h) + IPV6_MAXPLEN)
		r->ip_len = skb->len - nhoff;
	/*
	 * The protocol as nft's meta l4proto finds it: the last header of
	 * the chain, a later fragment's next header included.  thoff is
	 * from skb->data and starts at 0, which ipv6_find_hdr() reads as
	 * "from the outer IPv6 header".
	 */
	proto = ipv6_find_hdr(skb, &thoff, -1, &fragoff, &fragflg);
	if (fragflg & IP6_FH_F_FRAG)
		r->flags |= NTFW_REC_FRAG;
	if (proto < 0) {
		/* A chain that ends past the packet: no transport. */
		r->proto = ip6h->nexthdr;
		r->payload_len = r->ip_len - sizeof(*ip6h);
		return true;
	}
	r->proto = proto;
	if (fragoff) {
		/*
		 * A later fragment: ipv6_find_hdr() does not say where its
		 * data starts.  ipv6_skip_exthdr() stops at the fragment
		 * header of a later fragment; the data follows its 8 bytes.
		 */
		nh = ip6h->nexthdr;
		start = ipv6_skip_exthdr(skb, nhoff + sizeof(*ip6h), &nh, &fo);
		if (start < 0 || start + 8 - nhoff > r->ip_len)
			return true;
		r->payload_len = r->ip_len - (start + 8 - nhoff);
		return true;
	}
	if (thoff < nhoff + sizeof(*ip6h) || thoff - nhoff > r->ip_len)
		return true;
	if (proto == IPPROTO_NONE) {
		r->payload_len = r->ip_len - (thoff - nhoff);
		return true;
	}
	ntfw_parse_l4(skb, thoff, nhoff + r->ip_len, r);
	return true;
}

/* ---- the hooks ---- */

static unsigned int ntfw_hook(void *priv, struct sk_buff *skb,
			      const struct nf_hook_state *state)
{
	const struct net_device *dev;
	enum ip_conntrack_info ctinfo;
	struct ntfw_ring_rec rec;
	struct skb_shared_info *shinfo;
	struct nf_conn *ct;
	unsigned int h, f;
	u32 ct_mark = 0;
	bool parsed;

	h = state->hook == NF_INET_POST_ROUTING;
	f = state->pf == NFPROTO_IPV6;
	/*
	 * A forwarded packet passes both hooks; it is recorded once, at
	 * PRE_ROUTING.  At POST_ROUTING only locally generated packets are
	 * left: a received skb keeps the index of the device it came in on
	 * in skb_iif, a locally built one has 0 there.
	 */
	if (h && skb->skb_iif)
		return NF_ACCEPT;

	ct = nf_ct_get(skb, &ctinfo);
	if (ct && !nf_ct_is_template(ct))
		ct_mark = READ_ONCE(ct->mark);

	if (!READ_ONCE(record_all)) {
		/*
		 * The fast path as the ruleset draws it (rules/ntfw.nft):
		 * packets of an established connection that carries the
		 * mark are accepted without being queued.  The daemon saw
		 * everything else through the queue: the packet that hands
		 * the connection over (it comes back with the packet mark
		 * bit set), packets of connections not yet established or
		 * related to one (ICMP errors are always queued).
		 */
		if (!(ct_mark & NTFW_FASTPATH_MARK) ||
		    (skb->mark & NTFW_FASTPATH_MARK))
			return NF_ACCEPT;
		if (ctinfo != IP_CT_ESTABLISHED &&
		    ctinfo != IP_CT_ESTABLISHED_REPLY)
			return NF_ACCEPT;
	}
	this_cpu_inc(ntfw_stats.seen[h][f]);

	/* Zeroed whole: the padding reaches userspace with the record. */
	memset(&rec, 0, sizeof(rec));
	rec.tcp_wscale = 0xff;
	if (f)
		parsed = ntfw_parse_ipv6(skb, &rec);
	else
		parsed = ntfw_parse_ipv4(skb, &rec);
	if (!parsed) {
		this_cpu_inc(ntfw_stats.unparsed);
		return NF_ACCEPT;
	}
	rec.ts_ns = ktime_get_real_ns();
	rec.hook = h ? NTFW_REC_POST_ROUTING : NTFW_REC_PRE_ROUTING;
	rec.ct_mark = ct_mark;
	if (ct_mark & NTFW_FASTPATH_MARK)
		rec.flags |= NTFW_REC_FASTPATH;
	dev = h ? state->out : state->in;
	rec.ifindex = dev ? dev->ifindex : 0;
	rec.netns = state->net->ns.inum;
	/*
	 * At these hooks skb->data is the IP header: add the link header
	 * the wire carries where it is Ethernet.
	 */
	rec.wire_len = skb->len;
	if (dev && dev->type == ARPHRD_ETHER)
		rec.wire_len += ETH_HLEN;

	rec.gso_segs = 1;
	if (skb_is_gso(skb)) {
		shinfo = skb_shinfo(skb);
		rec.gso_size = shinfo->gso_size;
		rec.gso_segs = shinfo->gso_segs;
		/* Some paths leave the count to the device: derive it. */
		if (!rec.gso_segs && rec.gso_size)
			rec.gso_segs = min_t(u32, U16_MAX,
					     DIV_ROUND_UP(rec.payload_len,
							  rec.gso_size));
	}

	if (ntfw_ring_put(&rec))
		this_cpu_inc(ntfw_stats.written[h][f]);
	else
		this_cpu_inc(ntfw_stats.dropped[h][f]);
	return NF_ACCEPT;
}

/*
 * PRE_ROUTING: right after conntrack (NF_IP_PRI_CONNTRACK + 1), so the
 * packet has its connection and its mark, and before mangle and DNAT, so
 * the addresses are those on the wire.
 *
 * POST_ROUTING: after mangle, filter, security, SNAT and the conntrack
 * helpers (NF_IP_PRI_CONNTRACK_HELPER + 1), so the packet is what leaves
 * the host (addresses after SNAT, helper rewrites done), and before
 * conntrack confirm at INT_MAX: a priority equal to confirm's would be
 * ordered by load order, not by design.  The connection's mark was
 * already set (or restored) in OUTPUT, before this hook.
 */
static const struct nf_hook_ops ntfw_nf_ops[] = {
	{
		.hook = ntfw_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP_PRI_CONNTRACK + 1,
	},
	{
		.hook = ntfw_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP_PRI_CONNTRACK_HELPER + 1,
	},
	{
		.hook = ntfw_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP6_PRI_CONNTRACK + 1,
	},
	{
		.hook = ntfw_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP6_PRI_CONNTRACK_HELPER + 1,
	},
};

static int __net_init ntfw_net_init(struct net *net)
{
	return nf_register_net_hooks(net, ntfw_nf_ops, ARRAY_SIZE(ntfw_nf_ops));
}

static void __net_exit ntfw_net_exit(struct net *net)
{
	nf_unregister_net_hooks(net, ntfw_nf_ops, ARRAY_SIZE(ntfw_nf_ops));
}

static struct pernet_operations ntfw_net_ops = {
	.init = ntfw_net_init,
	.exit = ntfw_net_exit,
};

/* ---- /proc/ntfw ---- */

static void ntfw_vm_flags(struct vm_area_struct *vma, vm_flags_t set,
			  vm_flags_t clear)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/*
 * The consumer writes cons and nothing else, so only a mapping of the
 * header page alone may be writable: mmap(offset 0, one page, PROT_READ |
 * PROT_WRITE).  Any mapping that reaches the records is read-only and
 * loses VM_MAYWRITE, so mprotect cannot make it writable later.  Shared
 * mappings only: a private copy of the header would never publish cons.
 *
 * Lifetime: remap_vmalloc_range() inserts each page with vm_insert_page(),
 * which takes a reference on the page for the mapping.  vfree() at unload
 * only drops the area's own reference, so a page still mapped lives until
 * the last mapping of it goes, and the mapping needs no vm_operations,
 * whose callbacks would live in this module's text.  procfs does not pin
 * the module either (proc_ops has no owner since 5.6): remove_proc_entry()
 * waits for the calls in flight and releases the files still open.  So
 * rmmod with a reader attached is safe; the reader keeps a ring that no
 * longer moves, and magic set to 0 tells it so.
 */
static int ntfw_ring_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long off = vma->vm_pgoff << PAGE_SHIFT;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= ring.size >> PAGE_SHIFT || len > ring.size - off)
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EACCES;
	if (off || len > PAGE_SIZE) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		ntfw_vm_flags(vma, 0, VM_MAYWRITE);
	}
	ntfw_vm_flags(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
	atomic64_inc(&ntfw_mmaps);
	return remap_vmalloc_range(vma, ring.hdr, vma->vm_pgoff);
}

static int ntfw_ring_open(struct inode *inode, struct file *file)
{
	atomic_inc(&ntfw_readers);
	return 0;
}

static int ntfw_ring_release(struct inode *inode, struct file *file)
{
	atomic_dec(&ntfw_readers);
	return 0;
}

static const struct proc_ops ntfw_ring_ops = {
	.proc_open = ntfw_ring_open,
	.proc_release = ntfw_ring_release,
	.proc_mmap = ntfw_ring_mmap,
};

static void ntfw_stats_add(struct ntfw_stats *sum, const struct ntfw_stats *s)
{
	unsigned int h, f;

	for (h = 0; h < 2; h++) {
		for (f = 0; f < 2; f++) {
			sum->written[h][f] += READ_ONCE(s->written[h][f]);
			sum->dropped[h][f] += READ_ONCE(s->dropped[h][f]);
			sum->seen[h][f] += READ_ONCE(s->seen[h][f]);
		}
	}
	sum->unparsed += READ_ONCE(s->unparsed);
}

static int ntfw_stats_show(struct seq_file *m, void *v)
{
	static const char *const hook[] = { "pre_routing", "post_routing" };
	static const char *const fam[] = { "ipv4", "ipv6" };
	struct ntfw_stats sum = {};
	unsigned int cpu, h, f;
	u64 written = 0, dropped = 0;

	for_each_possible_cpu(cpu)
		ntfw_stats_add(&sum, per_cpu_ptr(&ntfw_stats, cpu));
	for (h = 0; h < 2; h++) {
		for (f = 0; f < 2; f++) {
			written += sum.written[h][f];
			dropped += sum.dropped[h][f];
		}
	}
	seq_printf(m, "version %u\n", NTFW_RING_VERSION);
	seq_printf(m, "record %s\n", record_name());
	seq_printf(m, "ring_records %u\n", ring.mask + 1);
	seq_printf(m, "ring_bytes %lu\n", ring.size);
	seq_printf(m, "written %llu\n", written);
	seq_printf(m, "dropped %llu\n", dropped);
	seq_printf(m, "unparsed %llu\n", sum.unparsed);
	/*
	 * Plain reads of indexes the producer owns and the consumer's
	 * word: a snapshot for people, no record depends on it.
	 */
	seq_printf(m, "prod %llu\n", READ_ONCE(ring.hdr->prod));
	seq_printf(m, "cons %llu\n", READ_ONCE(ring.hdr->cons));
	seq_printf(m, "readers %d\n", atomic_read(&ntfw_readers));
	seq_printf(m, "mmaps %lld\n", (long long)atomic64_read(&ntfw_mmaps));
	for (h = 0; h < 2; h++) {
		for (f = 0; f < 2; f++) {
			seq_printf(m, "%s_%s seen %llu written %llu dropped %llu\n",
				   hook[h], fam[f], sum.seen[h][f],
				   sum.written[h][f], sum.dropped[h][f]);
		}
	}
	return 0;
}

/* ---- load and unload ---- */

static int __init ntfw_init(void)
{
	struct proc_dir_entry *dir, *ent;
	unsigned long size;
	int err;

	if (!is_power_of_2(ring_records) || ring_records < NTFW_RING_MIN ||
	    ring_records > NTFW_RING_MAX) {
		pr_err("ring_records=%u: a power of 2 from %u to %u\n",
		       ring_records, NTFW_RING_MIN, NTFW_RING_MAX);
		return -EINVAL;
	}
	size = (unsigned long)ring_records * sizeof(struct ntfw_ring_rec);
	size = PAGE_ALIGN(PAGE_SIZE + size);
	/* Zeroed, and flagged VM_USERMAP for remap_vmalloc_range(). */
	ring.hdr = vmalloc_user(size);
	if (!ring.hdr)
		return -ENOMEM;
	ring.recs = (struct ntfw_ring_rec *)((u8 *)ring.hdr + PAGE_SIZE);
	ring.size = size;
	ring.mask = ring_records - 1;
	spin_lock_init(&ring.lock);
	ring.hdr->version = NTFW_RING_VERSION;
	ring.hdr->rec_size = sizeof(struct ntfw_ring_rec);
	ring.hdr->nrec = ring_records;
	ring.hdr->rec_offset = PAGE_SIZE;
	/*
	 * Magic last: a header with the magic is a complete one.  Nobody
	 * can map it yet, the release is for form's sake.
	 */
	smp_store_release(&ring.hdr->magic, NTFW_RING_MAGIC);

	err = -ENOMEM;
	dir = proc_mkdir("ntfw", NULL);
	if (!dir)
		goto err_free;
	ent = proc_create("ring", 0600, dir, &ntfw_ring_ops);
	if (!ent)
		goto err_proc;
	proc_set_size(ent, size);
	if (!proc_create_single("stats", 0444, dir, ntfw_stats_show))
		goto err_proc;

	err = register_pernet_subsys(&ntfw_net_ops);
	if (err)
		goto err_proc;
	pr_info("ring of %u records, recording %s\n", ring_records,
		record_all ? "all packets" : "the fast path");
	return 0;

err_proc:
	remove_proc_subtree("ntfw", NULL);
err_free:
	vfree(ring.hdr);
	return err;
}

static void __exit ntfw_exit(void)
{
	/*
	 * No hook runs after this: nf_unregister_net_hooks() waits for
	 * the packets in flight (synchronize_net).
	 */
	unregister_pernet_subsys(&ntfw_net_ops);
	/* No mmap runs after this, and open files are released. */
	remove_proc_subtree("ntfw", NULL);
	/* Tell a reader still mapping the ring that it is dead. */
	smp_store_release(&ring.hdr->magic, 0);
	/* Pages still mapped keep their mapping's reference; see mmap. */
	vfree(ring.hdr);
}

module_init(ntfw_init);
module_exit(ntfw_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ntfw: packet summaries of the kernel fast path, in a ring mapped from /proc/ntfw/ring");
