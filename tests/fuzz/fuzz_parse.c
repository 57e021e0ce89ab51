// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: the packet parser and the rule matcher on arbitrary bytes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "parse.h"
#include "policy.h"

static struct ntfw_conf *conf;

static const char policy[] =
	"set s { 10.0.0.0/8, fd00::/8 }\n"
	"drop name a proto tcp dport 1-1024 tcp-flags syn !ack\n"
	"drop name b icmp-type echo-request,nd-neighbor-solicit\n"
	"accept name c src @s dst 192.168.0.0/16 sport 53,5353\n"
	"drop name d family ip6 dst fd00::1/128 hook input\n"
	"accept name e proto 47\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntfw_pkt p = { 0 };
	unsigned int idx;

	if (!conf && ntfw_conf_parse("fuzz", policy, sizeof(policy) - 1, &conf,
				     stderr))
		__builtin_trap();
	if (size < 1)
		return 0;
	p.hook = data[0] & 7;
	/* First byte: hook; the rest is the packet, also seen truncated. */
	if (ntfw_parse(data + 1, size - 1, size - 1, &p) == NTFW_PKT_OK) {
		ntfw_policy_eval(conf, &p, NULL, &idx);
		if (idx > conf->nrules || p.ip_len > size - 1)
			__builtin_trap();
	}
	ntfw_parse(data + 1, (size - 1) / 2, size - 1, &p);
	return 0;
}
