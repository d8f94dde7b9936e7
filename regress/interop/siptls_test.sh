#! /usr/bin/atf-sh
# SIP over TLS to the enterprise proxy, given by name.  Each case runs
# dnsmasq, Prosody (partner.test on 127.0.0.10), xmppgwd (gw.test on
# 127.0.0.20), SIPp (the proxy, TCP on 127.0.0.30:5060) and stunnel in
# front of it (TLS on 127.0.0.30:5061) in its own network namespace.
# xmppgwd knows the proxy as sip.gw.test, which only the namespace's
# /etc/hosts (/etc/netns/NS/hosts, see xgwd_start) resolves.

. "$(atf_get_srcdir)/../lib/common.sh"
. "$(atf_get_srcdir)/../lib/peers.sh"
. "$(atf_get_srcdir)/../lib/sipp.sh"
. "$(atf_get_srcdir)/../lib/stunnel.sh"

GW=127.0.0.20
PA=127.0.0.10
PROXY=127.0.0.30
PROXYNAME=sip.gw.test

# setup SERVERCERT CLIENTCA CLIENTCERT [HOSTS [LISTENTLS]]: everything.
#   SERVERCERT  stunnel's certificate for sip.gw.test: ca, otherca or
#               wrongname (see _peers_cert in peers.sh)
#   CLIENTCA    yes: stunnel requires a client certificate of the test CA
#   CLIENTCERT  yes: the sip block has gw.test's certificate and key
#   HOSTS       no: sip.gw.test is not in the namespace's hosts file;
#               hang: not there either, and the namespace's resolv.conf
#               names a DNS server that never answers (dnsblackhole)
#   LISTENTLS   yes: xmppgwd also accepts SIP over TLS on 127.0.0.20:5061
#               (needs CLIENTCERT yes: the same certificate serves)
setup() {
	ensure_user
	netns_create
	make_certs gw.test partner.test $PROXYNAME
	mkdir -p proxy
	_peers_cert "$1" $PROXYNAME proxy || atf_fail "cannot make the proxy's certificate"
	echo "127.0.0.1 localhost" > "/etc/netns/$(cat netns)/hosts"
	if [ "${4:-yes}" = yes ]; then
		echo "$PROXY $PROXYNAME" >> "/etc/netns/$(cat netns)/hosts"
	fi
	[ "${4:-yes}" = hang ] && dnsblackhole
	partner_up
	sipp_uas_start uas uas_200 $PROXY 5060
	ca=""
	[ "$2" = yes ] && ca="cafile=$PWD/certs/ca.crt"
	stunnel_start tun accept=$PROXY:5061 connect=$PROXY:5060 \
	    cert="$PWD/proxy/$PROXYNAME.crt" key="$PWD/proxy/$PROXYNAME.key" $ca
	gw_conf_head $GW > xmppgwd.conf
	cat >> xmppgwd.conf <<CONF
domain "gw.test" {
	certificate "certs/gw.test.crt"
	key "certs/gw.test.key"
}
sip {
	proxy "$PROXYNAME" port 5061 tls
	listen on $GW port 5060 tcp
	trusted $PROXY
CONF
	if [ "${5:-no}" = yes ]; then
		echo "	listen on $GW port 5061 tls" >> xmppgwd.conf
	fi
	if [ "$3" = yes ]; then
		cat >> xmppgwd.conf <<CONF
	certificate "certs/gw.test.crt"
	key "certs/gw.test.key"
CONF
	fi
	cat >> xmppgwd.conf <<CONF
}
partner "partner.test" {
	type federated
	tls required
	sasl optional
	dialback yes
}
CONF
	xgwd_start "$PWD/xmppgwd.conf"
}

# dnsblackhole: a DNS server on 127.0.0.54 that counts the queries it
# gets (dnsblackhole.log, a line each) and never answers, and the
# namespace's resolv.conf pointing at it (getaddrinfo only: xmppgwd's
# own resolver is configured to use dnsmasq)
dnsblackhole() {
	netns_exec "$PEERS_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.54", 53))
with open(sys.argv[1], "a") as f:
    while True:
        s.recvfrom(4096)
        f.write("query\n")
        f.flush()' "$PWD/dnsblackhole.log" > dnsblackhole.err 2>&1 &
	echo $! > dnsblackhole.pid
	wait_alive dnsblackhole 10 dnsblackhole_up ||
	    atf_fail "dnsblackhole did not come up: $(oneline "$(cat dnsblackhole.err)")"
	printf "nameserver 127.0.0.54\noptions timeout:30 attempts:2\n" \
	    > "/etc/netns/$(cat netns)/resolv.conf"
	# names from files and DNS only: no nscd or resolved of the host
	echo "hosts: files dns" > "/etc/netns/$(cat netns)/nsswitch.conf"
}

dnsblackhole_up() { netns_exec ss -Hlun 'src 127.0.0.54:53' | grep -q .; }

# alice_sends BODY WAIT: alice@partner.test messages bob@gw.test; the
# error she gets back (or "noerror") is in client.out
alice_sends() {
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to bob@gw.test --body "$1" --wait-error "$2" \
	    > client.out 2> client.err
	return 0
}

expect_delivered() {
	alice_sends "$1" 10
	grep -q "^noerror" client.out ||
	    atf_fail "an error came back: $(oneline "$(cat client.out client.err)")"
	sipp_wait_requests uas 1 10
	body=$(sipp_last_request uas | sipp_body)
	[ "$body" = "$1" ] || atf_fail "body: '$body'"
}

# expect_unavailable: the message fails fast with service-unavailable
expect_unavailable() {
	start=$(date +%s)
	alice_sends "hello" 10
	grep -q "^error [a-z]* service-unavailable" client.out ||
	    atf_fail "expected service-unavailable, got: $(oneline "$(cat client.out client.err)")"
	[ $(($(date +%s) - start)) -lt 8 ] || atf_fail "the error was not fast"
	[ "$(sipp_requests uas)" -eq 0 ] || atf_fail "SIPp received a request"
}

# wait_log ERE [SECONDS]: the xmppgwd log has a line matching ERE
wait_log() {
	wait_for "${2:-10}" grep -Eq "$1" xmppgwd.log ||
	    atf_fail "the log lacks /$1/: $(oneline "$(tail -n 5 xmppgwd.log)")"
}

atf_test_case tls_proxy_by_name_gets_message cleanup
tls_proxy_by_name_gets_message_head() {
	atf_set descr "a Prosody user's message reaches SIPp through xmppgwd over TLS to the proxy given by name (stunnel in front of SIPp), with a TLS Via"
	atf_set require.user root
}
tls_proxy_by_name_gets_message_body() {
	setup ca no no
	wait_log "sip: connected to the proxy $PROXYNAME \\($PROXY:5061\\) over TLSv1\\.[23]"
	expect_delivered "hello over TLS"
	sipp_last_request uas | sipp_header Via | grep -q "^SIP/2.0/TLS " ||
	    atf_fail "Via: $(oneline "$(sipp_last_request uas | sipp_header Via)")"
}
tls_proxy_by_name_gets_message_cleanup() { netns_destroy; }

atf_test_case mutual_tls_with_client_certificate cleanup
mutual_tls_with_client_certificate_head() {
	atf_set descr "a proxy that requires a client certificate gets the message when the sip block has one"
	atf_set require.user root
}
mutual_tls_with_client_certificate_body() {
	setup ca yes yes
	wait_log "sip: connected to the proxy $PROXYNAME"
	expect_delivered "hello over mutual TLS"
	grep -q "unreachable" xmppgwd.log &&
	    atf_fail "$(oneline "$(grep unreachable xmppgwd.log)")"
	return 0
}
mutual_tls_with_client_certificate_cleanup() { netns_destroy; }

atf_test_case mutual_tls_without_client_certificate_fails cleanup
mutual_tls_without_client_certificate_fails_head() {
	atf_set descr "a proxy that requires a client certificate, none configured: the sender gets service-unavailable and the log names the TLS failure"
	atf_set require.user root
}
mutual_tls_without_client_certificate_fails_body() {
	setup ca yes no
	wait_log "sip: proxy $PROXYNAME \\($PROXY:5061\\) unreachable: TLS.*certificate required"
	expect_unavailable
}
mutual_tls_without_client_certificate_fails_cleanup() { netns_destroy; }

atf_test_case proxy_certificate_other_ca_fails cleanup
proxy_certificate_other_ca_fails_head() {
	atf_set descr "a proxy certificate from a CA not trusted: the message fails fast with service-unavailable and the log says why"
	atf_set require.user root
}
proxy_certificate_other_ca_fails_body() {
	setup otherca no no
	wait_log "sip: proxy $PROXYNAME \\($PROXY:5061\\) unreachable: TLS handshake: .*certificate verif"
	expect_unavailable
}
proxy_certificate_other_ca_fails_cleanup() { netns_destroy; }

atf_test_case proxy_certificate_wrong_name_fails cleanup
proxy_certificate_wrong_name_fails_head() {
	atf_set descr "a proxy certificate for another name: the message fails fast with service-unavailable and the log names the name"
	atf_set require.user root
}
proxy_certificate_wrong_name_fails_body() {
	setup wrongname no no
	wait_log "sip: proxy $PROXYNAME \\($PROXY:5061\\) unreachable: TLS handshake: .*$PROXYNAME"
	expect_unavailable
}
proxy_certificate_wrong_name_fails_cleanup() { netns_destroy; }

atf_test_case proxy_name_unresolved_warns_then_reload cleanup
proxy_name_unresolved_warns_then_reload_head() {
	atf_set descr "a proxy name that does not resolve: xmppgwd starts, warns with file and line, messages fail with service-unavailable; after the name resolves, a reload connects"
	atf_set require.user root
}
proxy_name_unresolved_warns_then_reload_body() {
	setup ca no no no
	wait_log "xmppgwd\\.conf:14: warning: sip proxy \"$PROXYNAME\": .*tried again every 60 s"
	expect_unavailable
	# the bind mount is of the file: appending shows through
	echo "$PROXY $PROXYNAME" >> "/etc/netns/$(cat netns)/hosts"
	atf_check -o ignore "$(XGWCTL)" -s "$PWD/ctl.sock" reload
	wait_log "sip: connected to the proxy $PROXYNAME"
	expect_delivered "hello after the reload"
}
proxy_name_unresolved_warns_then_reload_cleanup() { netns_destroy; }

atf_test_case proxy_lookup_does_not_hold_up_parent cleanup
proxy_lookup_does_not_hold_up_parent_head() {
	atf_set descr "while the lookup of the proxy's name waits for a DNS server that never answers, the parent answers status and applies a reload at once; messages fail with service-unavailable meanwhile"
	atf_set require.user root
	atf_set timeout 120
}
proxy_lookup_does_not_hold_up_parent_body() {
	setup ca no no hang
	# the lookup is under way and unanswered (it would last 60 s)
	wait_for 5 test -s dnsblackhole.log || atf_fail "no DNS query"
	timeout 3 "$(XGWCTL)" -s "$PWD/ctl.sock" status > status.out 2>&1 ||
	    atf_fail "status held up: $(oneline "$(cat status.out)")"
	timeout 3 "$(XGWCTL)" -s "$PWD/ctl.sock" reload > reload.out 2>&1 ||
	    atf_fail "reload held up: $(oneline "$(cat reload.out)")"
	grep -q "generation 2 loaded" reload.out ||
	    atf_fail "reload: $(oneline "$(cat reload.out)")"
	expect_unavailable
	grep -q "warning: sip proxy" xmppgwd.log &&
	    atf_fail "the lookup ended early: $(oneline "$(grep warning xmppgwd.log)")"
	return 0
}
proxy_lookup_does_not_hold_up_parent_cleanup() { netns_destroy; }

atf_test_case tls_listener_message_reaches_prosody_user cleanup
tls_listener_message_reaches_prosody_user_head() {
	atf_set descr "a MESSAGE over TLS to xmppgwd's sip tls listener (SIPp behind stunnel in client mode, checking gw.test's certificate) reaches a Prosody user; SIPp gets 200"
	atf_set require.user root
}
tls_listener_message_reaches_prosody_user_body() {
	setup ca no yes yes yes
	wait_log "sip: connected to the proxy $PROXYNAME"
	stunnel_start out client=yes accept=$PROXY:5070 connect=$GW:5061 \
	    local=$PROXY cafile="$PWD/certs/ca.crt" checkhost=gw.test
	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 1 --timeout 30
	sipp_uac uac uac_expect_2xx $PROXY $PROXY:5070 \
	    ruri=sip:carol@partner.test from=sip:dave@gw.test \
	    to=sip:carol@partner.test "body=hello over SIP TLS" timeout=20 ||
	    atf_fail "SIPp did not get 2xx: $(oneline "$(tail -n 5 uac.out; tail -n 5 out.log)")"
	bg_wait carol || atf_fail "carol got nothing: $(oneline "$(cat carol.out carol.err)")"
	grep -q "^message dave@gw.test hello over SIP TLS" carol.out ||
	    atf_fail "carol got: $(oneline "$(cat carol.out)")"
}
tls_listener_message_reaches_prosody_user_cleanup() { netns_destroy; }

atf_init_test_cases() {
	atf_add_test_case tls_proxy_by_name_gets_message
	atf_add_test_case mutual_tls_with_client_certificate
	atf_add_test_case mutual_tls_without_client_certificate_fails
	atf_add_test_case proxy_certificate_other_ca_fails
	atf_add_test_case proxy_certificate_wrong_name_fails
	atf_add_test_case proxy_name_unresolved_warns_then_reload
	atf_add_test_case proxy_lookup_does_not_hold_up_parent
	atf_add_test_case tls_listener_message_reaches_prosody_user
}
