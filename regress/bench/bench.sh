#!/bin/sh
# bench.sh: "make bench".  Runs xmppgwd in a network namespace of its own
# (only lo, only 127.0.0.0/8) between xgwbench playing the partner's XMPP
# server and the enterprise SIP proxy, and prints what it measured:
# messages/s each way, latency, the gateway's CPU time per message, the
# rate at which s2s streams come up and the memory an idle authenticated
# stream holds, and each of its processes' resident memory at the start
# and at the end; first, what a wakeup costs here and whether the XML
# parser stays linear when a token comes a byte at a time.
# Exits non-zero if a message went missing.  Needs root (namespace,
# xmppgwd's privilege drop) and what "make deps" installs.
#
# Environment (defaults in brackets):
#   BENCH_PREFORK   tls processes of xmppgwd [2]
#   BENCH_COUNT     messages of each flat-out run [200000]
#   BENCH_RATE      offered rate of the latency runs, msg/s [5000]
#   BENCH_RATE_COUNT messages of each latency run [50000]
#   BENCH_STREAMS   inbound s2s streams [8]
#   BENCH_WINDOW    messages in flight in the flat-out runs [2000]
#   BENCH_DOMAINS   partner domains [partner-a.test,partner-b.test]
#   BENCH_BODY      body length, bytes [100]
#   BENCH_IDLE      streams opened at once by the last run [500]
#   BENCH_RUNS      the measured runs, as xgwbench takes them
#                   [x2s:max:COUNT s2x:max:COUNT x2s:RATE:RATE_COUNT
#                   s2x:RATE:RATE_COUNT x2s:15000:90000 s2x:15000:90000
#                   idle:IDLE]
#   BENCH_ARGS      more options for xgwbench (e.g. -q: ACK at once)
#   BENCH_KEEP      1: keep the work directory (log, config) afterwards
#   BENCH_MACHINE   0: skip the wakeup and XML parser figures (their
#                   thresholds are timings: regress/daemon/pacing_test.sh
#                   runs without them) [1]
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
bench=$top/regress/bench
prefork=${BENCH_PREFORK:-2}
count=${BENCH_COUNT:-200000}
rate=${BENCH_RATE:-5000}
rcount=${BENCH_RATE_COUNT:-50000}
streams=${BENCH_STREAMS:-8}
window=${BENCH_WINDOW:-2000}
domains=${BENCH_DOMAINS:-partner-a.test,partner-b.test}
body=${BENCH_BODY:-100}
idle=${BENCH_IDLE:-500}
runs=${BENCH_RUNS:-"x2s:max:$count s2x:max:$count x2s:$rate:$rcount s2x:$rate:$rcount x2s:15000:90000 s2x:15000:90000 idle:$idle"}

GW=127.0.0.20		# xmppgwd: s2s and SIP
PARTNER=127.0.0.10	# xgwbench as the partners' XMPP server
PROXY=127.0.0.30	# xgwbench as the SIP proxy

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
for f in "$top/xmppgwd/xmppgwd" "$top/xmppgwctl/xmppgwctl" \
    "$bench/xgwbench" "$bench/wakecost" "$bench/xmltrickle"; do
	[ -x "$f" ] || { echo "bench: $f is not built" >&2; exit 1; }
done

# the regress helpers (namespace, certificates, start and stop by PID)
# outside atf
atf_fail() { echo "bench: $*" >&2; exit 1; }
atf_get_srcdir() { echo "$bench"; }
. "$top/regress/lib/common.sh"

work=$(mktemp -d /tmp/xgwbench.XXXXXX)
chmod 0755 "$work"
cd "$work"

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	set +e
	cd "$work"
	netns_destroy
	cd /
	if [ "$rc" -ne 0 ] || [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_user
netns_create
if [ "${BENCH_MACHINE:-1}" != 0 ]; then
	# what a wakeup costs here sets the cost per message at moderate
	# rates
	netns_exec "$bench/wakecost" || atf_fail "wakecost failed"
	# the stream parser stays linear when a token comes a byte at a time
	"$bench/xmltrickle" || atf_fail "xmltrickle failed"
fi
make_certs gw.test $(echo "$domains" | tr ',' ' ')

gw_conf_head $GW > xmppgwd.conf
cat >> xmppgwd.conf <<CONF
prefork $prefork
limits { connections 1000  per-partner 1000  read-rate 0 }
domain "gw.test" {
	certificate "certs/gw.test.crt"
	key "certs/gw.test.key"
}
sip {
	proxy "$PROXY" port 5060 tcp
	listen on $GW port 5060 tcp
	trusted $PROXY
}
CONF
for d in $(echo "$domains" | tr ',' ' '); do
	cat >> xmppgwd.conf <<CONF
partner "$d" {
	type federated
	tls required
	sasl required
	dialback no
	proxy "$PARTNER" port 5269
}
CONF
done

# gwcpu PID: ns on a CPU of PID and its children (/proc/PID/schedstat)
gwcpu() {
	for _p in $1 $(ps -o pid= --ppid "$1"); do
		cat "/proc/$_p/schedstat"
	done | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# gwmem PID: each xmppgwd process's resident memory, "ROLE KiB ..."
gwmem() {
	for _p in $1 $(ps -o pid= --ppid "$1"); do
		printf '%s %s\n' \
		    "$(tr '\0' ' ' < "/proc/$_p/cmdline" | sed 's/^xmppgwd: \([a-z]*\).*/\1/')" \
		    "$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$_p/status")"
	done | sort | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 } END { print "" }'
}

# xgwbench first: it is the SIP proxy the gateway connects to at start,
# and it knows the gateway is up when that connection comes
nproc=$((prefork + 4))	# parent, tls x prefork, dialback, policy, sip
nsenter --net="/run/netns/$(cat netns)" "$bench/xgwbench" -g @xmppgwd.pid \
    -P "$nproc" -C "$PWD/certs" -D "$domains" -n "$streams" -w "$window" \
    -b "$body" -T 120 ${BENCH_ARGS:-} x2s:max:2000:warm s2x:max:2000:warm $runs \
    > xgwbench.out 2>&1 &
echo $! > xgwbench.pid
listening() { netns_exec ss -Hltn "src $1" | grep -q .; }
wait_for 10 listening $PROXY:5060 ||
    atf_fail "xgwbench does not listen: $(cat xgwbench.out)"
xgwd_start "$PWD/xmppgwd.conf"
gwpid=$(cat xmppgwd.pid)
cpu0=$(gwcpu "$gwpid")
mem0=$(gwmem "$gwpid")
echo "xmppgwd $gwpid, prefork $prefork; $(nproc) CPUs; $streams inbound" \
    "s2s streams, SIP on 1 TCP connection, body $body bytes," \
    "partners $domains"

# the two warm-up runs bring the gateway's outbound streams up; they
# are not in the table
wait "$(cat xgwbench.pid)"
status=$?
rm -f xgwbench.pid
cat xgwbench.out
cpu1=$(gwcpu "$gwpid")
echo "xmppgwd CPU over the whole session: $(( (cpu1 - cpu0) / 1000000 )) ms"
echo "xmppgwd resident memory (KiB) at the start: $mem0"
echo "xmppgwd resident memory (KiB) at the end:   $(gwmem "$gwpid")"
if ! kill -0 "$gwpid" 2>/dev/null; then
	echo "bench: xmppgwd died" >&2
	status=1
fi
grep -E "fatal|stream error" xmppgwd.log | head -5 >&2
stop_pid xmppgwd
if [ "$status" -ne 0 ]; then
	echo "bench: FAILED (xgwbench exit $status)" >&2
	exit 1
fi
exit 0
