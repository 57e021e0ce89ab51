#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guest side of bench/vm.sh (runs as tests/vm/run.sh's guest script):
# TCP bulk between two namespaces, best of RUNS, with ntfw's fast path and
# no module, then with ntfw_kmod loaded and the daemon reading its ring.
# Prints "@@ # bench ..." lines and one PASS/FAIL.
IP=/opt/bin/ip
S="$IP netns exec s"
C="$IP netns exec c"
W=/tmp/w
RUNS=3
BYTES=$((1448 * 6144))
export NTFW_RULESDIR=/ntfw
mkdir -p $W
$IP netns add s && $IP netns add c &&
	$IP link add c0 netns c type veth peer name s0 netns s &&
	$S $IP addr add 10.213.0.1/24 dev s0 && $C $IP addr add 10.213.0.2/24 dev c0 &&
	$S $IP link set lo up && $C $IP link set lo up &&
	$S $IP link set s0 up && $C $IP link set c0 up || echo "@@ FAIL bench: topology"

# best: the best MB/s of RUNS transfers of BYTES.
best() {
	b=0
	i=0
	while [ $i -lt $RUNS ]; do
		: >$W/s.log
		$S timeout 60 bulk serve 10.213.0.1 8081 $BYTES >$W/s.log 2>&1 &
		sp=$!
		n=0
		while ! grep -q ready $W/s.log && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
		r=$($C timeout 60 bulk get 10.213.0.1 8081)
		wait $sp
		b=$(echo "$r $b" | awk '{v = NF == 3 && $2 > 0 ? $1 / $2 / 1e6 : 0; print (v > $NF) ? v : $NF}')
		i=$((i + 1))
	done
	echo "$b"
}
# with CONF: best with ntfw running CONF.
with() {
	$S ntfw -d -c "$1" >$W/ntfw.log 2>&1 &
	np=$!
	n=0
	while ! grep -q '^ntfw: ready' $W/ntfw.log && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	best
	kill -USR1 $np
	sleep 0.3
	grep '^ntfw: stats: ring ' $W/ntfw.log | tail -n 1 | sed 's/^/@@ # bench /' >&2
	kill $np
	wait $np
}
printf 'kmod off\nfastpath after 4\naccept name bulk proto tcp dport 8081\n' >$W/off.conf
printf 'kmod on\nfastpath after 4\naccept name bulk proto tcp dport 8081\n' >$W/on.conf
bare=$(best)
$S ntfw-rules install >/dev/null 2>&1
nomod=$(with $W/off.conf)
insmod /kmod/ntfw_kmod.ko
ring=$(with $W/on.conf 2>$W/ring.note)
cat $W/ring.note
$S ntfw-rules remove >/dev/null 2>&1
rmmod ntfw_kmod
echo "@@ # bench bare=$bare fastpath-no-module=$nomod fastpath-ring=$ring MB/s"
echo "$ring $nomod $bare" | awk '$2 > 0 && $3 > 0 {printf "@@ # bench ratio ring/no-module=%.2f ring/bare=%.2f\n", $1 / $2, $1 / $3}'
if echo "$ring $nomod" | awk '{exit !($1 > 0 && $2 > 0)}'; then
	echo "@@ PASS bench"
else
	echo "@@ FAIL bench: no figures"
fi
