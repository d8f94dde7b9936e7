#! /usr/bin/atf-sh
# The privilege-separated daemon: process tree, privilege drop, control
# socket, reload, supervision and shutdown.  Each case starts its own
# xmppgwd in its own network namespace.

. "$(atf_get_srcdir)/../lib/common.sh"

# write_conf [EXTRA]: a test configuration in ./xmppgwd.conf
write_conf() {
	cat > xmppgwd.conf <<CONF
chroot "$PWD/empty"
state directory "$PWD/var/db/xmppgwd"
socket "$PWD/ctl.sock"
ca file "certs/ca.crt"
dialback secret file "certs/dialback.secret"
listen on 127.0.0.1 port 5269
domain "gw.test" {
	certificate "certs/gw.test.crt"
	key "certs/gw.test.key"
}
partner "partner.test" {
	description "Partner One"
	type federated
	tls required
	sasl optional
	dialback yes
}
$1
CONF
}

setup() {
	ensure_user
	make_certs gw.test
	write_conf "$1"
	netns_create
	xgwd_start "$PWD/xmppgwd.conf"
}

parent_pid() { cat xmppgwd.pid; }

# child_pids: the children of the parent, one per line
child_pids() {
	ps -o pid= --ppid "$(parent_pid)" | tr -d ' '
}

# role_pid ROLE: the pid of the child titled "xmppgwd: ROLE"
role_pid() {
	for p in $(child_pids); do
		if tr '\0' ' ' < /proc/$p/cmdline | grep -q "^xmppgwd: $1"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

status_field() {
	ctl status | sed -n "s/^$1 *\([0-9]*\) .*/\1/p"
}

atf_test_case process_tree cleanup
process_tree_head() {
	atf_set descr "parent plus tls x prefork, dialback, policy and sip, titled by role"
	atf_set require.user root
}
process_tree_body() {
	setup "prefork 2"
	atf_check -o match:'^xmppgwd: parent' sh -c "tr '\\0' ' ' < /proc/$(parent_pid)/cmdline"
	n=0
	for role in tls dialback policy sip; do
		for p in $(child_pids); do
			tr '\0' ' ' < /proc/$p/cmdline | grep -q "^xmppgwd: $role" &&
			    n=$((n + 1))
		done
	done
	[ "$n" -eq 5 ] || atf_fail "expected 5 children (2 tls), found $n: $(oneline "$(ps -o pid,args --ppid $(parent_pid))")"
}
process_tree_cleanup() { netns_destroy; }

atf_test_case children_drop_privileges cleanup
children_drop_privileges_head() {
	atf_set descr "every child runs as _xmppgwd, NoNewPrivs, not dumpable, chrooted, under a seccomp filter"
	atf_set require.user root
}
children_drop_privileges_body() {
	setup
	uid=$(id -u _xmppgwd)
	for p in $(child_pids); do
		atf_check -o match:"^Uid:	$uid	$uid	$uid	$uid" grep '^Uid:' /proc/$p/status
		atf_check -o match:'^NoNewPrivs:	1' grep '^NoNewPrivs:' /proc/$p/status
		atf_check -o match:'^CapEff:	0+$' grep '^CapEff:' /proc/$p/status
		# a seccomp filter (mode 2), installed before any input
		atf_check -o match:'^Seccomp:	2$' grep '^Seccomp:' /proc/$p/status
		root=$(readlink /proc/$p/root)
		case "$root" in
		"$PWD/empty"|"$PWD/var/db/xmppgwd") ;;
		*) atf_fail "pid $p not chrooted: root is $root" ;;
		esac
	done
	# policy lives in the state directory (created with its parents,
	# owned by the user), the others in the empty one
	atf_check -o inline:"$PWD/var/db/xmppgwd\n" readlink /proc/$(role_pid policy)/root
	atf_check -o inline:"_xmppgwd 700\n" stat -c "%U %a" "$PWD/var/db/xmppgwd"
	atf_check -o inline:"$PWD/empty\n" readlink /proc/$(role_pid dialback)/root
	atf_check -o match:'^Uid:	0	0	0	0' grep '^Uid:' /proc/$(parent_pid)/status
}
children_drop_privileges_cleanup() { netns_destroy; }

atf_test_case status_text_and_json cleanup
status_text_and_json_head() {
	atf_set descr "xmppgwctl status lists each process, the generation and the partners, also as JSON"
	atf_set require.user root
}
status_text_and_json_body() {
	setup "prefork 2"
	ctl status > status.out || atf_fail "status failed"
	for re in "^parent *$(parent_pid) " "^tls\\[0\\] " "^tls\\[1\\] " \
	    "^dialback " "^policy " "^sip " "^generation 1, loaded " \
	    "^1 partners, 1 local domains" "^configuration $PWD/xmppgwd.conf"; do
		grep -q "$re" status.out || atf_fail "status lacks $re: $(oneline "$(cat status.out)")"
	done
	atf_check -o inline:"$(role_pid sip)\n" sh -c "sed -n 's/^sip *\([0-9]*\) .*/\1/p' status.out"
	ctl -j status > status.json || atf_fail "-j status failed"
	atf_check -o inline:"6 1 1 1 0 $(parent_pid)\n" /usr/bin/python3 -c '
import json, sys
d = json.load(open("status.json"))
procs = d["processes"]
roles = [p["role"] for p in procs]
print(len(procs), d["config"]["generation"], d["config"]["partners"],
      d["config"]["domains"], sum(p["restarts"] for p in procs),
      [p["pid"] for p in procs if p["role"] == "parent"][0])'
}
status_text_and_json_cleanup() { netns_destroy; }

atf_test_case show_partners cleanup
show_partners_head() {
	atf_set descr "xmppgwctl show partners prints every partner setting; show partner NAME one partner, named by any of its domains, and its streams"
	atf_set require.user root
}
show_partners_body() {
	setup 'partner "other.test" {
	additional domains { "chat.other.test" "eu.other.test" }
	tls optional
	sasl not supported
	keepalive no
	connections 7
	proxy "xmpp.other.test" port 5299
}'
	ctl show partners > partners.out || atf_fail "show partners failed"
	for re in "^partner partner.test" "description \"Partner One\"" \
	    "type federated" "sasl optional" "^partner other.test" \
	    "additional domains chat.other.test eu.other.test" \
	    "type public unverified" "tls optional" "sasl not supported" \
	    "keepalive no" "connections 7" "proxy xmpp.other.test port 5299"; do
		grep -q "$re" partners.out || atf_fail "show partners lacks $re"
	done
	atf_check -o inline:"2 other.test 7 5299\n" /usr/bin/python3 -c '
import json, subprocess, sys
d = json.loads(subprocess.run(sys.argv[1:], capture_output=True).stdout)
p = d["partners"]
print(len(p), p[1]["domain"], p[1]["connections"], p[1]["proxy"]["port"])' \
	    "$(XGWCTL)" -j -s "$PWD/ctl.sock" show partners
	# prefixes are enough
	atf_check -o match:"^partner partner.test" "$(XGWCTL)" -s "$PWD/ctl.sock" sh p
	# one partner, named by any of its domains; its streams (none here)
	atf_check -o save:one.out "$(XGWCTL)" -s "$PWD/ctl.sock" \
	    show partner EU.other.test
	grep -q "^partner other.test" one.out || atf_fail "$(cat one.out)"
	grep -q "^partner partner.test" one.out && atf_fail "$(cat one.out)"
	grep -q "^dir  *local  *remote" one.out || atf_fail "$(cat one.out)"
	atf_check -o inline:"other.test 0\n" /usr/bin/python3 -c '
import json, subprocess, sys
d = json.loads(subprocess.run(sys.argv[1:], capture_output=True).stdout)
print(d["partner"]["domain"], len(d["streams"]))' \
	    "$(XGWCTL)" -j -s "$PWD/ctl.sock" show partners chat.other.test
	atf_check -s exit:1 -e inline:"xmppgwctl: no partner nobody.test\n" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" show partner nobody.test
	atf_check -s exit:1 -o match:'"result":"failed"' \
	    "$(XGWCTL)" -j -s "$PWD/ctl.sock" show partner nobody.test
}
show_partners_cleanup() { netns_destroy; }

atf_test_case reload_via_ctl cleanup
reload_via_ctl_head() {
	atf_set descr "xmppgwctl reload applies a changed config and bumps the generation"
	atf_set require.user root
}
reload_via_ctl_body() {
	setup
	write_conf 'partner "new.test" { tls required sasl required dialback no }'
	atf_check -o match:"configuration generation 2 loaded" "$(XGWCTL)" -s "$PWD/ctl.sock" reload
	atf_check -o match:"^generation 2, loaded" "$(XGWCTL)" -s "$PWD/ctl.sock" status
	atf_check -o match:"^2 partners" "$(XGWCTL)" -s "$PWD/ctl.sock" status
	atf_check -o match:"^partner new.test" "$(XGWCTL)" -s "$PWD/ctl.sock" show partners
}
reload_via_ctl_cleanup() { netns_destroy; }

atf_test_case reload_via_sighup cleanup
reload_via_sighup_head() {
	atf_set descr "SIGHUP re-reads the configuration like xmppgwctl reload"
	atf_set require.user root
}
reload_via_sighup_body() {
	setup
	write_conf 'partner "new.test" { tls required sasl required dialback no }'
	kill -HUP "$(parent_pid)"
	wait_for 10 sh -c "'$(XGWCTL)' -s '$PWD/ctl.sock' status | grep -q '^generation 2,'" ||
	    atf_fail "generation did not become 2: $(oneline "$(ctl status)")"
	atf_check -o match:"^partner new.test" "$(XGWCTL)" -s "$PWD/ctl.sock" show partners
	grep -q "reload: configuration generation 2 loaded" xmppgwd.log ||
	    atf_fail "no reload line in the log"
}
reload_via_sighup_cleanup() { netns_destroy; }

atf_test_case broken_reload_keeps_running_config cleanup
broken_reload_keeps_running_config_head() {
	atf_set descr "a reload with errors is refused, says why, and keeps the old config"
	atf_set require.user root
}
broken_reload_keeps_running_config_body() {
	setup
	cp xmppgwd.conf good.conf
	write_conf 'partner "bad.test" { tls not supported sasl not supported dialback no }'
	atf_check -s exit:1 -e match:"xmppgwctl: configuration file .* refused, keeping generation 1" \
	    -e match:"xmppgwd.conf:[0-9]+: partner \"bad.test\": no way to authenticate" "$(XGWCTL)" -s "$PWD/ctl.sock" reload
	atf_check -o match:"^generation 1, loaded" "$(XGWCTL)" -s "$PWD/ctl.sock" status
	atf_check -o not-match:"bad.test" "$(XGWCTL)" -s "$PWD/ctl.sock" show partners
	grep -q "reload: .*no way to authenticate" xmppgwd.log ||
	    atf_fail "the refusal is not in the log"
	# the same through SIGHUP: logged, still generation 1
	kill -HUP "$(parent_pid)"
	wait_for 10 sh -c "grep -c 'keeping the running configuration' xmppgwd.log | grep -q 2" ||
	    atf_fail "SIGHUP refusal not logged"
	atf_check -o match:"^generation 1, loaded" "$(XGWCTL)" -s "$PWD/ctl.sock" status
	# a change only a restart can make is refused too
	sed 's/port 5269/port 5270/' good.conf > xmppgwd.conf
	atf_check -s exit:1 -e match:"listen on addresses changed: restart xmppgwd to apply" "$(XGWCTL)" -s "$PWD/ctl.sock" reload
	# and a good one still goes through afterwards
	cp good.conf xmppgwd.conf
	atf_check -o match:"configuration generation 2 loaded" "$(XGWCTL)" -s "$PWD/ctl.sock" reload
}
broken_reload_keeps_running_config_cleanup() { netns_destroy; }

atf_test_case killed_child_is_restarted cleanup
killed_child_is_restarted_head() {
	atf_set descr "kill -9 of a child gets it restarted with the config; status counts the restart; a death by SIGSYS is blamed on the seccomp filter"
	atf_set require.user root
}
killed_child_is_restarted_body() {
	setup
	# sip dies of SIGSYS, as the seccomp filter kills: blamed on it
	for rs in dialback:KILL:9 tls:KILL:9 policy:KILL:9 \
	    "sip:SYS:31 (a system call its seccomp filter forbids"; do
		role=${rs%%:*} sig=${rs#*:} sig=${sig%%:*} why=${rs#*:*:}
		old=$(role_pid $role)
		kill -$sig "$old"
		wait_for 10 sh -c "'$(XGWCTL)' -s '$PWD/ctl.sock' status | grep -E -q '^$role(\\[0\\])? +[0-9]+ +[0-9:]+ +1\$'" ||
		    atf_fail "$role not restarted: $(oneline "$(ctl status)")"
		new=$(role_pid $role)
		[ -n "$new" ] && [ "$new" != "$old" ] || atf_fail "$role has no new pid"
		grep -q -F "(pid $old) killed by signal $why" xmppgwd.log ||
		    atf_fail "no log line for the lost $role: $(oneline "$(grep 'lost child' xmppgwd.log)")"
	done
	# the restarted policy got the configuration again
	atf_check -o match:"^partner partner.test" "$(XGWCTL)" -s "$PWD/ctl.sock" show partners
	atf_check -o match:"^Uid:	$(id -u _xmppgwd)" grep '^Uid:' /proc/$(role_pid policy)/status
}
killed_child_is_restarted_cleanup() { netns_destroy; }

atf_test_case restart_loop_stops_daemon cleanup
restart_loop_stops_daemon_head() {
	atf_set descr "a child that keeps dying stops the daemon with a clear log line"
	atf_set require.user root
}
restart_loop_stops_daemon_body() {
	setup
	pp=$(parent_pid)
	i=0
	while kill -0 "$pp" 2>/dev/null && [ $i -lt 10 ]; do
		p=$(role_pid sip) && kill -KILL "$p"
		# wait for the restart (or the end) before the next kill
		wait_for 5 sh -c "! kill -0 $pp 2>/dev/null || { q=\$(ps -o pid= --ppid $pp -o args= | grep 'xmppgwd: sip' | awk '{print \$1}'); [ -n \"\$q\" ] && [ \"\$q\" != '$p' ]; }"
		i=$((i + 1))
	done
	wait_for 10 sh -c "! kill -0 $pp 2>/dev/null" || atf_fail "daemon still running after $i kills"
	grep -q "too many restarts of sip" xmppgwd.log || atf_fail "no log line: $(oneline "$(tail -5 xmppgwd.log)")"
	[ -z "$(ip netns pids $(cat netns))" ] || atf_fail "processes left behind"
}
restart_loop_stops_daemon_cleanup() { netns_destroy; }

atf_test_case sigterm_leaves_nothing cleanup
sigterm_leaves_nothing_head() {
	atf_set descr "SIGTERM stops every process and removes the control socket"
	atf_set require.user root
}
sigterm_leaves_nothing_body() {
	setup
	pids="$(parent_pid) $(child_pids)"
	kill -TERM "$(parent_pid)"
	for p in $pids; do
		wait_for 10 sh -c "! kill -0 $p 2>/dev/null" || atf_fail "pid $p still alive"
	done
	[ -z "$(ip netns pids $(cat netns))" ] || atf_fail "processes left in the namespace"
	[ ! -e ctl.sock ] || atf_fail "control socket left behind"
	grep -q "stopped" xmppgwd.log || atf_fail "no stop line in the log"
}
sigterm_leaves_nothing_cleanup() { netns_destroy; }

atf_test_case unprivileged_client_refused cleanup
unprivileged_client_refused_head() {
	atf_set descr "only root may reload, change logging, authorize, revoke, list authorisations and check a partner; others may read status"
	atf_set require.user root
}
unprivileged_client_refused_body() {
	setup
	u="runuser -u _xmppgwd --"
	atf_check -o match:"^generation 1" $u "$(XGWCTL)" -s "$PWD/ctl.sock" status
	atf_check -s exit:1 -e match:"permission denied: reload requires root" \
	    $u "$(XGWCTL)" -s "$PWD/ctl.sock" reload
	atf_check -s exit:1 -e match:"permission denied: log requires root" \
	    $u "$(XGWCTL)" -s "$PWD/ctl.sock" log verbose
	atf_check -s exit:1 -e match:"permission denied: authorize requires root" \
	    $u "$(XGWCTL)" -s "$PWD/ctl.sock" authorize a@contoso.example b@x.example
	atf_check -s exit:1 -e match:"permission denied: revoke requires root" \
	    $u "$(XGWCTL)" -s "$PWD/ctl.sock" revoke a@contoso.example b@x.example
	atf_check -s exit:1 -e match:"permission denied: show authorizations requires root" \
	    $u "$(XGWCTL)" -s "$PWD/ctl.sock" show authorizations
	# check partner connects out
	atf_check -s exit:1 -e match:"permission denied: check requires root" \
	    $u "$(XGWCTL)" -s "$PWD/ctl.sock" check partner contoso.example
	atf_check -o match:"^generation 1," "$(XGWCTL)" -s "$PWD/ctl.sock" status
	atf_check -o match:"logging verbose" "$(XGWCTL)" -s "$PWD/ctl.sock" log verbose
	atf_check -o match:"logging brief" "$(XGWCTL)" -s "$PWD/ctl.sock" log brief
	# others are kept off the socket entirely
	atf_check -s exit:1 -e match:"Permission denied" \
	    runuser -u nobody -- "$(XGWCTL)" -s "$PWD/ctl.sock" status
}
unprivileged_client_refused_cleanup() { netns_destroy; }

atf_test_case second_instance_refused cleanup
second_instance_refused_head() {
	atf_set descr "a second xmppgwd on the same control socket refuses to start"
	atf_set require.user root
}
second_instance_refused_body() {
	setup
	atf_check -s exit:1 -e match:"control socket .* is in use" \
	    nsenter --net="/run/netns/$(cat netns)" "$(XGWD)" -d -f "$PWD/xmppgwd.conf"
	atf_check -o match:"^generation 1" "$(XGWCTL)" -s "$PWD/ctl.sock" status
}
second_instance_refused_cleanup() { netns_destroy; }

atf_test_case garbage_on_control_socket cleanup
garbage_on_control_socket_head() {
	atf_set descr "a client sending garbage is disconnected; the daemon keeps serving"
	atf_set require.user root
}
garbage_on_control_socket_body() {
	setup
	/usr/bin/python3 -c '
import socket, struct, sys
for payload in [b"\xff" * 64, struct.pack("=IIII", 1, 0x7fffffff, 0, 0),
                struct.pack("=IIII", 999, 16, 0, 0), struct.pack("=IIII", 1, 20, 0, 0) + b"abcd"]:
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(payload)
    s.settimeout(5)
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        sys.exit("not disconnected")
    s.close()' "$PWD/ctl.sock" || atf_fail "garbage not handled"
	atf_check -o match:"^generation 1" "$(XGWCTL)" -s "$PWD/ctl.sock" status
	atf_check -o match:"^policy +[0-9]+ +[0-9:]+ +0$" "$(XGWCTL)" -s "$PWD/ctl.sock" status
}
garbage_on_control_socket_cleanup() { netns_destroy; }

atf_init_test_cases() {
	atf_add_test_case process_tree
	atf_add_test_case children_drop_privileges
	atf_add_test_case status_text_and_json
	atf_add_test_case show_partners
	atf_add_test_case reload_via_ctl
	atf_add_test_case reload_via_sighup
	atf_add_test_case broken_reload_keeps_running_config
	atf_add_test_case killed_child_is_restarted
	atf_add_test_case restart_loop_stops_daemon
	atf_add_test_case sigterm_leaves_nothing
	atf_add_test_case unprivileged_client_refused
	atf_add_test_case second_instance_refused
	atf_add_test_case garbage_on_control_socket
}
