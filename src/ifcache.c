// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "ifcache.h"

const char *ntfw_ifname(struct ntfw_ifcache *c, uint32_t index)
{
	struct timespec now;
	typeof(c->slot[0]) *s;

	if (!index)
		return "";
	s = &c->slot[index % NTFW_IFCACHE_SLOTS];
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (s->index == index && now.tv_sec < s->expires)
		return s->name;
	s->index = index;
	s->expires = now.tv_sec + NTFW_IFCACHE_TTL;
	if (!if_indextoname(index, s->name))
		s->name[0] = '\0';
	return s->name;
}
