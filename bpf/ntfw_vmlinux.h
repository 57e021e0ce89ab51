/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ntfw_vmlinux.h: the few kernel types ntfw_feed.bpf.c reads, as CO-RE
 * relocatable declarations (preserve_access_index).  Only the members
 * used are declared; libbpf finds each one by name in the running
 * kernel's BTF (/sys/kernel/btf/vmlinux) when the program is loaded, and
 * refuses the load if one is missing.  Members that sit in anonymous
 * unions or structs in the kernel (sk_buff's mark, skb_iif) are declared
 * flat: the relocation looks through anonymous members.
 *
 * Why a small checked-in header and not a vmlinux.h made at build time
 * with `bpftool btf dump file /sys/kernel/btf/vmlinux format c`: the build
 * then needs no BTF of the machine it runs on (a chroot, a container, a
 * build daemon without /sys/kernel/btf), its output does not depend on
 * the kernel the builder happens to boot, and a reader sees here every
 * kernel field the program depends on.  The layout is the running
 * kernel's business, not this file's: offsets come from its BTF.
 */
#ifndef NTFW_VMLINUX_H
#define NTFW_VMLINUX_H

#include <linux/types.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

struct net_device {
	int ifindex;
	unsigned short type;
};

struct sock;

struct nf_hook_state {
	__u8 hook;
	__u8 pf;
	struct net_device *in;
	struct net_device *out;
	struct sock *sk;
	struct net *net;
};

struct sk_buff {
	unsigned long _nfct;	/* struct nf_conntrack * | ctinfo */
	unsigned int len;
	int skb_iif;
	__u32 mark;
	unsigned int end;	/* sk_buff_data_t: an offset on 64-bit */
	unsigned char *head;
};

struct skb_shared_info {
	unsigned short gso_size;
	unsigned short gso_segs;
};

struct nf_conn {
	unsigned long status;
	__u32 mark;
};

/* The context of a BPF_PROG_TYPE_NETFILTER program (6.4 on). */
struct bpf_nf_ctx {
	const struct nf_hook_state *state;
	struct sk_buff *skb;
};

#pragma clang attribute pop

#endif
