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

# churn_rounds RSS CHURN: "CHURN 2000" to warm up, then four rounds of
# "CHURN 2000", RSS (printing KiB) after each.  Sets churn_growth to the
# growth of each round and churn_min to the least.  A leak of 32 bytes
# a connection grows every round by 64 KiB or more; the heap settling
# shows in one round or two, not in all.
churn_rounds() {
	"$2" 2000
	_prev=$("$1")
	churn_growth=""
	for _r in 1 2 3 4; do
		"$2" 2000
		_now=$("$1")
		churn_growth="$churn_growth $((_now - _prev))"
		_prev=$_now
	done
	churn_min=$(printf '%s\n' $churn_growth | sort -n | head -n 1)
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

# stop_pid NAME: SIGTERM the process in ./NAME.pid, SIGKILL after 5 s,
# and forget it
stop_pid() {
	[ -f "$1.pid" ] || return 0
	_kp=$(cat "$1.pid")
	kill -TERM "$_kp" 2>/dev/null
	_ki=0
	while kill -0 "$_kp" 2>/dev/null && [ $_ki -lt 100 ]; do
		sleep 0.05; _ki=$((_ki + 1))
	done
	kill -KILL "$_kp" 2>/dev/null
	wait "$_kp" 2>/dev/null
	rm -f "$1.pid"
}

# gw_conf_head ADDRESS: the start of an xmppgwd.conf for the interop
# tests: state in the work directory, the test CA and secret, the
# namespace's dnsmasq as resolver, s2s on ADDRESS port 5269
gw_conf_head() {
	cat <<CONF
chroot "$PWD/empty"
state directory "$PWD/state"
socket "$PWD/ctl.sock"
ca file "certs/ca.crt"
dialback secret file "certs/dialback.secret"
resolver 127.0.0.2
resolver option "local-zone:" "test. transparent"
listen on $1 port 5269
CONF
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
# control socket to answer.  As ip-netns(8) exec does, the files of
# /etc/netns/NS (resolv.conf, and hosts when a test writes one) are
# mounted over those of /etc, in a mount namespace of xmppgwd's own:
# the lookup of the SIP proxy's name (getaddrinfo) sees them, the host
# sees nothing.
xgwd_start() {
	# every step execs the next: $! must be xmppgwd itself
	nsenter --net="/run/netns/$(cat netns)" \
	    unshare --mount --propagation private sh -c '
		for f in /etc/netns/"$0"/*; do
			[ -f "$f" ] || continue
			mount --bind "$f" "/etc/${f##*/}" || exit 1
		done
		exec "$@"' "$(cat netns)" "$(XGWD)" -d -f "$1" \
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
