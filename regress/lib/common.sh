# common.sh: sourced by the atf-sh tests that start daemons.
# Every daemon runs inside a network namespace the test creates and
# removes, with only lo up: nothing a test starts can reach beyond the
# machine.  State lives in the test's work directory (atf's cwd).

xgw_top() {
	cd "$(atf_get_srcdir)/../.." && pwd
}

XGWD() { echo "$(xgw_top)/xmppgwd/xmppgwd"; }
XGWCTL() { echo "$(xgw_top)/xmppgwctl/xmppgwctl"; }

# netns_create: make the namespace, remember its name in ./netns
netns_create() {
	ns="xgw-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
	ip netns add "$ns" || atf_fail "ip netns add $ns failed"
	echo "$ns" > netns
	ip -n "$ns" link set lo up || atf_fail "cannot bring lo up in $ns"
	mkdir -p "/etc/netns/$ns"
	# the only resolver a daemon could ask is inside the namespace
	echo "nameserver 127.0.0.2" > "/etc/netns/$ns/resolv.conf"
}

# nsenter execs in place (ip netns exec forks), so $! is the daemon's pid
netns_exec() {
	nsenter --net="/run/netns/$(cat netns)" "$@"
}

# oneline TEXT: for atf_fail, whose reason must be one line
oneline() {
	printf '%s' "$*" | tr '\n' '|'
}

# netns_destroy: stop what this test started (by PID) and remove the
# namespace; for the cleanup routines.
netns_destroy() {
	for f in *.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		kill -TERM "$p" 2>/dev/null
	done
	for f in *.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	if [ -f netns ]; then
		ns=$(cat netns)
		# anything left in the namespace was started by this test
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	fi
}

# wait_for SECONDS CMD...: poll a readiness condition
wait_for() {
	_t=$1; shift
	_i=0
	while ! "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -gt $((_t * 20)) ] && return 1
		sleep 0.05
	done
	return 0
}

# wait_alive NAME SECONDS CMD...: like wait_for, but give up as soon as
# the daemon whose pid is in ./NAME.pid has exited
wait_alive() {
	_wn=$1 _wt=$2; shift 2
	_wi=0
	while ! "$@" >/dev/null 2>&1; do
		kill -0 "$(cat "$_wn.pid")" 2>/dev/null || return 1
		_wi=$((_wi + 1))
		[ $_wi -gt $((_wt * 20)) ] && return 1
		sleep 0.05
	done
	return 0
}

# make_certs DOMAIN...: throwaway CA, certificates and secret in ./certs
make_certs() {
	sh "$(xgw_top)/regress/lib/mkcerts.sh" certs "$@" ||
	    atf_fail "mkcerts.sh failed"
}

ensure_user() {
	sh "$(xgw_top)/regress/lib/mkuser.sh" >/dev/null ||
	    atf_fail "cannot create user _xmppgwd"
}

# xgwd_start CONF: start xmppgwd -d in the namespace, wait for its
# control socket to answer
xgwd_start() {
	# a simple command, not a function: $! must be xmppgwd itself
	nsenter --net="/run/netns/$(cat netns)" "$(XGWD)" -d -f "$1" \
	    > xmppgwd.log 2>&1 &
	echo $! > xmppgwd.pid
	if ! wait_for 15 "$(XGWCTL)" -s "$PWD/ctl.sock" status; then
		cat xmppgwd.log
		atf_fail "xmppgwd did not come up"
	fi
}

ctl() {
	"$(XGWCTL)" -s "$PWD/ctl.sock" "$@"
}
