/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_IFCACHE_H
#define NTFW_IFCACHE_H

#include <net/if.h>
#include <stdint.h>
#include <time.h>

#define NTFW_IFCACHE_SLOTS 64
#define NTFW_IFCACHE_TTL 5 /* seconds a name is trusted */

/*
 * Interface index -> name, per worker (no locking).  Names are looked up on
 * a miss and kept a few seconds, so renames are seen soon and the packet
 * path makes at most one ioctl per interface every few seconds.
 */
struct ntfw_ifcache {
	struct {
		uint32_t index;
		time_t expires;
		char name[IF_NAMESIZE];
	} slot[NTFW_IFCACHE_SLOTS];
};

/* The interface's name, or "" when it has none (index 0 or gone). */
const char *ntfw_ifname(struct ntfw_ifcache *c, uint32_t index);

#endif
