#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The fast path hands over only the connection itself.  (1) An ICMP error
# quoting a connection, accepted as related, never hands that connection
# to the kernel: with "fastpath after 1" and a rule accepting ICMP, a
# forged time-exceeded must not let the rest of the connection bypass a
# "flow" rule.  (2) An error about a connection the kernel has taken over
# still reaches the policy, which can drop it.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip python3 iptables ip6tables
PY3=/usr/bin/python3
$PY3 -c 'import scapy' 2>/dev/null || skip "python3-scapy is not installed"
topo_pair
rules_install "$S"

# A server that counts the messages (lines) it receives on each connection.
cat >"$T_TMP/lines.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(5)
while True:
    c, _ = s.accept()
    n = 0
    c.settimeout(3)
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            n += d.count(b"\n")
    except socket.timeout:
        pass
    print(n, flush=True)
    c.close()
PY
bg "$T_TMP/lines.log" ip netns exec "$S" python3 "$T_TMP/lines.py" 2222
wait_for 5 _listening "$S" 2222 || fail "line server did not start"

# talk N [ERR]: one connection, N messages a tenth of a second apart;
# with ERR, after the first message the client also sends 2 forged ICMP
# errors (type ERR) to the server quoting the server's side of the
# connection (as a router between them would about a server's packet).
talk() {
	ip netns exec "$C" $PY3 - "$@" <<'PY'
import socket, subprocess, sys, time
n = int(sys.argv[1])
s = socket.create_connection(("10.213.0.1", 2222))
port = s.getsockname()[1]
for i in range(n):
    s.send(b"message %d\n" % i)
    if i == 0 and len(sys.argv) > 2:
        subprocess.run(["/usr/bin/python3", sys.argv[3], "10.213.0.2",
                        "10.213.0.1", sys.argv[2], "0", "tcp", "10.213.0.1",
                        "2222", "10.213.0.2", str(port), "2"], check=True)
    time.sleep(0.1)
time.sleep(0.5)
s.close()
PY
}

# lines_at_least N: the server has reported N connections.
lines_at_least() { [ "$(wc -l <"$T_TMP/lines.log")" -ge "$1" ]; }

cat >"$T_TMP/ntfw.conf" <<'C'
fastpath after 1
accept name icmp   proto icmp
drop   name nopush proto tcp dport 2222 flow pushed_c2s > 3
C
ntfw_start "$S" "$T_TMP/ntfw.conf"
talk 10 || fail "client failed"
wait_for 8 lines_at_least 1 || fail "server saw no connection"
assert_eq "messages through without errors" 3 "$(sed -n 1p "$T_TMP/lines.log")"
talk 10 11 "$TOP/tests/netns/icmperr.py" || fail "client failed"
wait_for 8 lines_at_least 2 || fail "server saw no second connection"
assert_eq "messages through with forged time-exceeded" 3 "$(sed -n 2p "$T_TMP/lines.log")"
ntfw_stats
assert_eq "related packets (the forged errors)" 2 "$(stat_field state related)"
assert_eq "flows handed off" 0 "$(stat_field flows handed-off)"
assert_eq "icmp rule (errors are related, not judged by it)" 0 "$(rule_pkts icmp)"
ntfw_stop

# (2) The connection is handed over after 2 packets; errors about it come
# to the daemon all the same, and a per-packet rule drops them.
cat >"$T_TMP/ntfw.conf" <<'C'
fastpath after 2
drop   name noerr proto icmp state related
accept name lines proto tcp dport 2222
C
ntfw_start "$S" "$T_TMP/ntfw.conf"
talk 5 3 "$TOP/tests/netns/icmperr.py" || fail "client failed"
wait_for 8 lines_at_least 3 || fail "server saw no third connection"
assert_eq "messages through on the fast path" 5 "$(sed -n 3p "$T_TMP/lines.log")"
ntfw_stats
# (The first part's connections, still retransmitting, count here too.)
assert_ge "flows handed off" 1 "$(stat_field flows handed-off)"
assert_eq "noerr counter: the errors about the fast-pathed connection" 2 "$(rule_pkts noerr)"
ntfw_stop
