#! /usr/bin/atf-sh
# Self-test of the interop harness (regress/lib/peers.sh, xmppclient.py,
# rawpeer.py): two real Prosodies federate with each other through the
# test DNS server, and the scripted raw peer talks to one of them, in
# both directions.  No xmppgwd here: when these pass, a failing gateway
# interop test is the gateway's fault, not the harness's.

. "$(atf_get_srcdir)/../lib/common.sh"
. "$(atf_get_srcdir)/../lib/peers.sh"

A=127.0.0.10
B=127.0.0.11
C=127.0.0.12

# two_prosodies [A-OPTIONS] -- [B-OPTIONS]: namespace, DNS for a.test and
# b.test, a Prosody for each with alice@a.test and bob@b.test
two_prosodies() {
	aopts="" bopts="" side=a
	for o in "$@"; do
		if [ "$o" = -- ]; then side=b; continue; fi
		if [ $side = a ]; then aopts="$aopts $o"; else bopts="$bopts $o"; fi
	done
	netns_create
	make_certs a.test b.test
	dns_start a.test=$A b.test=$B
	# shellcheck disable=SC2086
	prosody_start a a.test $A s2s_timeout=10 $aopts
	# shellcheck disable=SC2086
	prosody_start b b.test $B s2s_timeout=10 $bopts
	prosody_register a alice a.test pw-alice
	prosody_register b bob b.test pw-bob
}

# online NAME JID PASSWORD ADDR [N]: a background client waiting for N
# messages (default 1), output in NAME.out
online() {
	xmppclient_start "$1" recv --jid "$2" --password "$3" --server "$4" \
	    --count "${5:-1}" --timeout 20
}

# send_ok FROM-JID PASSWORD ADDR TO BODY: send, no bounce within 1 s
send_ok() {
	out=$(xmppclient send --jid "$1" --password "$2" --server "$3" \
	    --resource sender --to "$4" --body "$5" --wait-error 1 2>&1)
	[ "$out" = noerror ] || atf_fail "sending to $4: $(oneline "$out")"
}

# received NAME FROM BODY: the background client NAME got it and exited 0
received() {
	bg_wait "$1" ||
	    atf_fail "$1 did not receive: $(oneline "$(cat "$1.out" "$1.err")")"
	grep -qxF "message $2 $3" "$1.out" ||
	    atf_fail "$1 got something else: $(oneline "$(cat "$1.out")")"
}

# log_has NAME ERE WHAT: NAME's log must show WHAT
log_has() {
	prosody_log_grep "$1" "$2" >/dev/null ||
	    atf_fail "$1's log does not show $3 (/$2/)"
}

atf_test_case federate cleanup
federate_head() {
	atf_set descr "two Prosodies with CA certificates federate: SRV, TLS, SASL EXTERNAL, c2s clients"
	atf_set require.user root
	atf_set timeout 60
}
federate_body() {
	two_prosodies secure_auth=true -- secure_auth=true
	online bob bob@b.test pw-bob $B
	send_ok alice@a.test pw-alice $A bob@b.test "hello bob, from a.test"
	received bob alice@a.test/sender "hello bob, from a.test"
	grep -q 'query\[SRV\] _xmpp-server._tcp.b.test' dnsmasq.log ||
	    atf_fail "a.test did not look up b.test's SRV record in the test DNS"
	log_has a 'certificate identity validation result: valid' \
	    "b.test's certificate validated"
	log_has a 'SASL EXTERNAL with b.test succeeded' "SASL EXTERNAL"
	log_has a 'Outgoing s2s connection a.test->b.test complete' \
	    "the outgoing s2s stream"
}
federate_cleanup() { netns_destroy; }

atf_test_case dialback_selfsigned cleanup
dialback_selfsigned_head() {
	atf_set descr "b.test has a self-signed certificate, a.test does not insist: both directions work, b.test->a.test by dialback"
	atf_set require.user root
	atf_set timeout 60
}
dialback_selfsigned_body() {
	two_prosodies secure_auth=false -- cert=selfsigned
	online bob bob@b.test pw-bob $B
	online alice alice@a.test pw-alice $A
	send_ok alice@a.test pw-alice $A bob@b.test "a to b"
	send_ok bob@b.test pw-bob $B alice@a.test "b to a"
	received bob alice@a.test/sender "a to b"
	received alice bob@b.test/sender "b to a"
	log_has a 'certificate chain validation result: invalid' \
	    "b.test's certificate rejected"
	# (Prosody's attribute order varies from run to run)
	log_has a "s2sin_unauthed\]: <result [^>]*'jabber:server:dialback'" \
	    "a dialback request"
	log_has a 'connection b.test->a.test is now authenticated for b.test' \
	    "b.test authenticated"
}
dialback_selfsigned_cleanup() { netns_destroy; }

atf_test_case secure_auth_refuses cleanup
secure_auth_refuses_head() {
	atf_set descr "negative control: a.test with s2s_secure_auth refuses b.test's self-signed certificate, the sender gets the bounce"
	atf_set require.user root
	atf_set timeout 60
}
secure_auth_refuses_body() {
	two_prosodies secure_auth=true -- cert=selfsigned
	out=$(xmppclient send --jid bob@b.test --password pw-bob --server $B \
	    --to alice@a.test --body "not delivered" --wait-error 15 2>&1)
	echo "$out" | grep -q '^error wait remote-server-timeout .*not trusted' ||
	    atf_fail "expected a remote-server-timeout bounce: $(oneline "$out")"
	log_has a 'Forbidding insecure connection to/from b.test' "the refusal"
}
secure_auth_refuses_cleanup() { netns_destroy; }

STREAM_HEAD="<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' version='1.0'"

atf_test_case rawpeer_connect cleanup
rawpeer_connect_head() {
	atf_set descr "rawpeer: a stream from a bogus domain to a.test gets features, STARTTLS, a variable, a failing expect"
	atf_set require.user root
	atf_set timeout 60
}
rawpeer_connect_body() {
	netns_create
	dns_start a.test=$A
	prosody_start a a.test $A
	hdr="$STREAM_HEAD from='bogus.test' to='a.test'>"
	cat > script <<EOF
# what the brief asks: a stream header from a bogus domain, features back
send $hdr
expect <stream:stream [^>]*id=['"](?P<sid>[^'"]+)
expect <stream:features>.*<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>.*</stream:features>
print stream id \${sid}
send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>
expect <proceed
starttls --ca certs/ca.crt --sni a.test
send $hdr
expect -t 5 <stream:features><dialback
absent <starttls
send </stream:stream>
expect </stream:stream>
expect-eof
EOF
	out=$(rawpeer --connect $A 5269 -f script 2>&1) ||
	    atf_fail "rawpeer failed: $(oneline "$out")"
	echo "$out" | grep -Eq '^stream id [0-9a-f-]{8,}$' ||
	    atf_fail "no stream id captured: $(oneline "$out")"
	# the failure path: exit 1, the reason and what came
	rawpeer --connect $A 5269 "send $hdr" "expect -t 1 <no-such-element/>" \
	    > fail.out 2> fail.err && atf_fail "a failing expect exited 0"
	if ! grep -q 'step 2 .*no /<no-such-element/>/ within 1 s' fail.err ||
	    ! grep -q "received: .*<stream:features>" fail.err; then
		atf_fail "unclear failure report: $(oneline "$(cat fail.err)")"
	fi
}
rawpeer_connect_cleanup() { netns_destroy; }

atf_test_case rawpeer_listen cleanup
rawpeer_listen_head() {
	atf_set descr "rawpeer as a fake c.test: a.test connects to it, TLS as a server, a stream error bounces alice's message"
	atf_set require.user root
	atf_set timeout 60
}
rawpeer_listen_body() {
	netns_create
	make_certs a.test c.test
	dns_start a.test=$A c.test=$C
	prosody_start a a.test $A s2s_timeout=10
	prosody_register a alice a.test pw-alice
	cat > script <<EOF
expect <stream:stream [^>]*to=['"]c\.test['"]
send $STREAM_HEAD from='c.test' id='fake1'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>
expect <starttls
send <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>
starttls --cert certs/c.test.crt --key certs/c.test.key --ca certs/ca.crt
expect <stream:stream [^>]*to=['"]c\.test['"]
send $STREAM_HEAD from='c.test' id='fake2'><stream:features/>
send <stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>rawpeer says no</text></stream:error></stream:stream>
close
EOF
	rawpeer_start fakec --listen $C 5269 -f script
	out=$(xmppclient send --jid alice@a.test --password pw-alice \
	    --server $A --to carol@c.test --body hi --wait-error 15 2>&1)
	bg_wait fakec || atf_fail "rawpeer: $(oneline "$(cat fakec.err)")"
	echo "$out" | grep -q '^error [a-z]* remote-server-[a-z-]* .*rawpeer says no' ||
	    atf_fail "expected a bounce naming rawpeer's error: $(oneline "$out")"
}
rawpeer_listen_cleanup() { netns_destroy; }

atf_init_test_cases() {
	atf_add_test_case federate
	atf_add_test_case dialback_selfsigned
	atf_add_test_case secure_auth_refuses
	atf_add_test_case rawpeer_connect
	atf_add_test_case rawpeer_listen
}
