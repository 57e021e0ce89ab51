#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `sudo make demo`: ntfw between a client and a server namespace, running
# conf/ntfw.conf.  Everything it creates is removed on exit, Ctrl-C too.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }

say "Setting up: client namespace (10.213.0.2) -- veth -- server namespace (10.213.0.1, fd00:213::1)"
topo_pair
info "client: $C   server: $S"
ip netns exec "$S" "$NTFW_RULES" install 2>&1 | sed 's/^/  /'
http_serve "$S" :: 8080
http_serve "$S" :: 23
http_serve "$S" :: 9000
info "HTTP servers on the server: ports 8080, 23 and 9000"

say "Starting: ntfw -d -c conf/ntfw.conf (in the server namespace)"
ntfw_start "$S" "$TOP/conf/ntfw.conf"
grep -v '^#' "$TOP/conf/ntfw.conf" | sed -e 's/ *#.*//' -e '/^ *$/d' -e 's/^/  | /'
sed 's/^/  /' "$NTFW_LOG"

say "1. ping 10.213.0.1 (rule no-ping: drop proto icmp icmp-type echo-request)"
n=$(ping_count "$C" 10.213.0.1 3)
info "ping: $n of 3 echo requests answered -> $([ "$n" = 0 ] && echo DROPPED || echo answered)"

say "2. curl http://10.213.0.1:8080/ (rule web: accept proto tcp dport 80,443,8000-8099)"
http_get "$C" http://10.213.0.1:8080/
if [ "$HTTP_RC" = 0 ]; then
	info "curl: ANSWERED: \"$HTTP_BODY\""
else
	info "curl: failed (curl exit $HTTP_RC: $(cat "$T_TMP/curl.err"))"
fi

say "3. curl http://10.213.0.1:23/ (rule telnet: drop proto tcp dport 23)"
start=$(date +%s)
http_get "$C" http://10.213.0.1:23/
if [ "$HTTP_RC" = 28 ]; then
	info "curl: TIMED OUT after $(($(date +%s) - start)) s: nothing came back"
else
	info "curl: exit $HTTP_RC: $HTTP_BODY"
fi

say "4. curl http://[fd00:213::1]:9000/ (rule v6-9000: drop proto tcp dst fd00:213::/48 dport 9000)"
http_get "$C" "http://[fd00:213::1]:9000/"
if [ "$HTTP_RC" = 28 ]; then
	info "curl: TIMED OUT: nothing came back"
else
	info "curl: exit $HTTP_RC: $HTTP_BODY"
fi

say "The daemon's counters (kill -USR1 <pid of ntfw>):"
ntfw_stats
grep '^ntfw: stats:' "$NTFW_LOG" | sed -e 's/^ntfw: stats: /  /'

say "Cleaning up: stopping ntfw, removing the namespaces"
ntfw_stop
ip netns exec "$S" "$NTFW_RULES" remove 2>&1 | sed 's/^/  /'
