#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ntfwctl against a daemon in a namespace: status, rules and flows (tables
# and --json) agree with the traffic sent (4 pings, a curl); reload through
# the socket with a bad file (the parser's exact error, exit 1, the old
# policy still answers) and a good one; clients that send garbage, too
# much or stall are dropped while another is served; the Prometheus
# exposition and the metrics file parse with prometheus_client.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl ping iptables ip6tables
PY=/usr/bin/python3
"$PY" -c 'import prometheus_client' 2>/dev/null ||
	skip "python3-prometheus-client is not installed"
CTL=$BUILD/ntfwctl
SOCK=$T_TMP/ntfw.sock
PROM=$T_TMP/metrics.prom
CONF=$T_TMP/ntfw.conf
topo_pair
rules_install "$S"
http_serve "$S" 0.0.0.0 8080

# conf WEB [LINE...]: the policy, port 8080 WEB, LINEs first.
conf() {
	local web=$1
	shift
	{
		printf '%s\n' "$@"
		cat <<C
control-socket $SOCK
metrics-file $PROM
metrics-interval 1
default drop
accept name out  hook output
accept name icmp proto icmp
$web name web proto tcp dport 8080
C
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
}
ctl() { "$CTL" -s "$SOCK" "$@"; }
# jq_py EXPR: evaluate EXPR on the JSON document r read from stdin.
jq_py() { "$PY" -c "import json,sys; r=json.load(sys.stdin); print($1)"; }

# Strict reading of the text exposition: prometheus_client parses it, and
# every family has HELP and TYPE, counters end in _total, names are ntfw_.
cat >"$T_TMP/prom.py" <<'P'
import re, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "no final newline"
helps, types, seen = set(), {}, {}
for line in text.splitlines():
    m = re.match(r"# (HELP|TYPE) (\S+) (.+)$", line)
    if m:
        (helps.add if m[1] == "HELP" else lambda n: types.__setitem__(n, m[3]))(m[2])
        continue
    m = re.match(r'([a-z_]+)(\{[a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*\})? (\d+)$', line)
    assert m, "bad line: %r" % line
    name = m[1]
    assert name.startswith("ntfw_"), name
    assert name in types and name in helps, "no HELP/TYPE for " + name
    assert (types[name] == "counter") == name.endswith("_total"), name
    key = name + (m[2] or "")
    assert key not in seen, "duplicate " + key
    seen[key] = int(m[4])
n = sum(len(f.samples) for f in text_string_to_metric_families(text))
assert n == len(seen), (n, len(seen))
for a in sys.argv[2:]:
    k, v = (a.rsplit("=", 1) if a[-1].isdigit() else (a, None))
    assert k in seen, "missing " + k
    assert v is None or seen[k] == int(v), "%s: %s, expected %s" % (k, seen[k], v)
print("ok: %d samples" % n)
P

conf accept
ntfw_start "$S" "$CONF"
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK")"
info "ok: socket mode 660"
assert_eq "pings answered" 4 "$(ping_count "$C" 10.213.0.1 4)"
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl" 0 "$HTTP_RC"

# rules: 4 echo requests and 4 replies of 84 bytes each.
ctl rules >"$T_TMP/rules.txt" || fail "ntfwctl rules failed"
cat "$T_TMP/rules.txt"
grep -Eq '^RULE +VERDICT +LINE +PACKETS +BYTES$' "$T_TMP/rules.txt" || fail "no table header"
grep -Eq '^icmp +accept +[0-9]+ +8 +672$' "$T_TMP/rules.txt" || fail "icmp row"
info "ok: rules table: icmp accept 8 packets 672 bytes"
ctl --json rules >"$T_TMP/rules.json"
assert_eq "rules --json icmp" "8 672" "$(jq_py '" ".join(str(x[k]) for x in r["rules"] if x["name"] == "icmp" for k in ("packets", "bytes"))' <"$T_TMP/rules.json")"
web=$(jq_py '[x["packets"] for x in r["rules"] if x["name"] == "web"][0]' <"$T_TMP/rules.json")
assert_ge "rules --json web packets (one connection)" 5 "$web"

# status
ctl status >"$T_TMP/status.txt" || fail "ntfwctl status failed"
cat "$T_TMP/status.txt"
grep -q "^config   $CONF (fnv1a-64 [0-9a-f]\{16\}), 3 rules, default drop" "$T_TMP/status.txt" ||
	fail "status: config line"
grep -Eq '^0 +[0-9]+ +0 +0 +0 ' "$T_TMP/status.txt" || fail "status: queue 0 row"
info "ok: status table"
ctl --json status >"$T_TMP/status.json"
assert_eq "status --json: rules, default, reloads" "3 drop 0 0" \
	"$(jq_py 'r["config"]["rules"], r["config"]["default"], r["reloads"]["done"], r["reloads"]["failed"]' <"$T_TMP/status.json" | tr -d "(),'")"
assert_eq "status --json: dropped, malformed" "0 0" \
	"$(jq_py 'r["totals"]["dropped"], r["totals"]["malformed"]' <"$T_TMP/status.json" | tr -d '(),')"
assert_ge "status --json: packets" $((8 + web)) "$(jq_py 'r["totals"]["packets"]' <"$T_TMP/status.json")"
assert_ge "status --json: new-state packets (two flows)" 2 "$(jq_py 'r["states"]["new"]' <"$T_TMP/status.json")"
assert_ge "status --json: kernel given" $((8 + web)) "$(jq_py 'r["queues"][0]["kernel"]["given"]' <"$T_TMP/status.json")"

# flows: the ping's and the curl's, each found by its filter.
ctl flows >"$T_TMP/flows.txt" || fail "ntfwctl flows failed"
cat "$T_TMP/flows.txt"
grep -Eq '^icmp +10\.213\.0\.2:[0-9]+ +10\.213\.0\.1:[0-9]+ +accept +icmp +8 +672 ' "$T_TMP/flows.txt" ||
	fail "flows: no icmp row"
grep -Eq '^tcp +10\.213\.0\.2:[0-9]+ +10\.213\.0\.1:8080 +accept +web +[0-9]+ ' "$T_TMP/flows.txt" ||
	fail "flows: no tcp row"
info "ok: flows table"
ctl --json flows port 8080 >"$T_TMP/flows.json"
assert_eq "flows port 8080: proto server sport state rule" "1 tcp 10.213.0.1 8080 accept web" \
	"$(jq_py 'r["matched"], *[(f["proto"], f["server"], f["sport"], f["state"], f["rule"]) for f in r["flows"]][0]' <"$T_TMP/flows.json" | tr -d "(),'")"
assert_eq "flows --json proto icmp: pkts bytes" "1 8 672" \
	"$(ctl --json flows proto icmp | jq_py 'r["matched"], r["flows"][0]["pkts"], r["flows"][0]["bytes"]' | tr -d '(),')"
assert_eq "flows addr 10.213.0.99" 0 "$(ctl --json flows addr 10.213.0.99 | jq_py 'r["matched"]')"
assert_eq "flows top 1 sort pkts" "1 2" \
	"$(ctl --json flows top 1 sort pkts | jq_py 'len(r["flows"]), r["matched"]' | tr -d '(),')"

# The Prometheus exposition, against the same traffic.
ctl stats --prometheus >"$T_TMP/stats.prom" || fail "ntfwctl stats --prometheus failed"
"$PY" "$T_TMP/prom.py" "$T_TMP/stats.prom" \
	'ntfw_rule_packets_total{rule="icmp",verdict="accept"}=8' \
	'ntfw_rule_bytes_total{rule="icmp",verdict="accept"}=672' \
	"ntfw_rule_packets_total{rule=\"web\",verdict=\"accept\"}=$web" \
	'ntfw_rule_packets_total{rule="default",verdict="drop"}=0' \
	'ntfw_dropped_total{queue="0"}=0' \
	'ntfw_malformed_reason_total{reason="bad-ip-header"}=0' \
	'ntfw_state_packets_total{state="new"}' \
	'ntfw_reloads_total=0' || fail "exposition"
wait_for 3 test -s "$PROM" || fail "no metrics file"
"$PY" "$T_TMP/prom.py" "$PROM" 'ntfw_rule_packets_total{rule="icmp",verdict="accept"}=8' ||
	fail "metrics file"
ls "$T_TMP" | grep -q 'metrics.prom.tmp' && fail "temporary file left"
info "ok: metrics file"

# Clients that misbehave, and one served meanwhile.
cat >"$T_TMP/clients.py" <<'P'
import json, socket, sys, time, subprocess
path, ctl = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s
def reply(s):
    s.settimeout(5)
    b = b""
    while not b.endswith(b"\n"):
        c = s.recv(65536)
        if not c:
            break
        b += c
    return b
t0 = time.monotonic()
stall = conn()
stall.sendall(b'{"cmd":')
garbage = conn()
garbage.sendall(b"\x00\xff not json\n")
r = json.loads(reply(garbage))
assert r["ok"] is False and r["error"].startswith("bad JSON"), r
print("ok: garbage refused:", r["error"])
big = conn()
try:
    big.sendall(b"{" + b" " * 70000)
except OSError:
    pass
r = json.loads(reply(big))
assert r == {"ok": False, "error": "request too long (at most 65536 bytes, one line)"}, r
print("ok: too long refused")
# Served while the stalled client waits.
t = time.monotonic()
out = subprocess.run([ctl, "-s", path, "--json", "status"], capture_output=True, timeout=5)
assert out.returncode == 0 and json.loads(out.stdout)["ok"] is True, out
assert time.monotonic() - t < 1, "status took %.1f s" % (time.monotonic() - t)
print("ok: status served while a client stalls")
r = json.loads(reply(stall))
took = time.monotonic() - t0
assert r == {"ok": False, "error": "request timed out (at most 2 s)"}, r
assert 1.5 < took < 4, took
assert stall.recv(10) == b"", "stalled client not closed"
print("ok: stalled client dropped after %.1f s" % took)
P
"$PY" "$T_TMP/clients.py" "$SOCK" "$CTL" || fail "misbehaving clients"

# A bad file: the parser's words, exit 1, the old policy still answers.
conf drop "acept name typo proto udp"
ctl reload >"$T_TMP/reload.out" 2>"$T_TMP/reload.err"
assert_eq "ntfwctl reload, bad file: exit" 1 "$?"
assert_eq "ntfwctl reload, bad file: error" \
	"ntfwctl: $CONF:1:1: error: unknown keyword 'acept'" "$(head -n 1 "$T_TMP/reload.err")"
assert_eq "--json reload, bad file" "False $CONF:1:1: error: unknown keyword 'acept'" \
	"$(ctl --json reload | jq_py '"%s %s" % (r["ok"], r["error"].splitlines()[0])')"
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl after the failed reload (old policy)" 0 "$HTTP_RC"
assert_eq "reloads failed" 2 "$(ctl --json status | jq_py 'r["reloads"]["failed"]')"

# A good one: port 8080 dropped now.
conf drop
ctl reload >"$T_TMP/reload.out" || fail "ntfwctl reload failed: $(cat "$T_TMP/reload.out")"
assert_eq "ntfwctl reload" "reloaded: 3 rules, default drop" "$(cat "$T_TMP/reload.out")"
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl after the reload (28 = timed out)" 28 "$HTTP_RC"
assert_eq "pings after the reload" 2 "$(ping_count "$C" 10.213.0.1 2)"
wait_for 3 grep -q '^ntfw_reloads_total 1$' "$PROM" || fail "metrics file not rewritten"
"$PY" "$T_TMP/prom.py" "$PROM" 'ntfw_reloads_total=1' 'ntfw_reload_failures_total=2' ||
	fail "metrics file after the reload"
# Through all of it, every packet the kernel queued got its verdict: the
# queue's id_sequence (the ids it gave out) is the daemon's packet count.
ntfw_stats
idseq=$(ip netns exec "$S" awk '$1 == 0 {print $8}' /proc/net/netfilter/nfnetlink_queue)
assert_eq "queue 0: ids given out = packets verdicted" "$idseq" "$(stat_total packets)"

ntfw_stop
[ -e "$SOCK" ] && fail "socket left behind"
ctl status 2>"$T_TMP/down.err"
assert_eq "ntfwctl without a daemon: exit" 1 "$?"
assert_eq "ntfwctl without a daemon" \
	"ntfwctl: cannot connect to $SOCK: No such file or directory (is ntfw running?)" \
	"$(cat "$T_TMP/down.err")"
exit 0
