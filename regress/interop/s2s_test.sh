#! /usr/bin/atf-sh
# Server-to-server federation against a real Prosody 0.12, and the known
# attacks on s2s driven by a scripted raw peer.  Each case starts its
# own dnsmasq, Prosody and xmppgwd in its own network namespace:
# gw.test (xmppgwd) on 127.0.0.20, partner.test (Prosody) on 127.0.0.10.

. "$(atf_get_srcdir)/../lib/common.sh"
. "$(atf_get_srcdir)/../lib/peers.sh"

GW=127.0.0.20
PA=127.0.0.10

# gw_conf PARTNER-SETTINGS [EXTRA]: xmppgwd.conf serving gw.test with
# partner.test configured with PARTNER-SETTINGS
gw_conf() {
	gw_conf_head $GW > xmppgwd.conf
	cat >> xmppgwd.conf <<CONF
domain "gw.test" {
	certificate "certs/gw.test.crt"
	key "certs/gw.test.key"
}
domain "gw2.test" {
	certificate "certs/gw2.test.crt"
	key "certs/gw2.test.key"
}
partner "partner.test" {
	type federated
	$1
}
$2
CONF
}

# setup PARTNER-SETTINGS [PROSODY-OPTIONS...]: DNS, Prosody, xmppgwd;
# $GW_EXTRA, if set, is more of xmppgwd.conf
setup() {
	_settings=$1; shift
	ensure_user
	netns_create
	make_certs gw.test gw2.test partner.test
	dns_start gw.test=$GW gw2.test=$GW partner.test=$PA
	prosody_start p partner.test $PA "$@"
	prosody_register p alice partner.test pw
	gw_conf "$_settings" "${GW_EXTRA:-}"
	xgwd_start "$PWD/xmppgwd.conf"
}

# setup_raw PARTNER-SETTINGS [EXTRA]: DNS and xmppgwd only; the raw peer
# plays partner.test
setup_raw() {
	ensure_user
	netns_create
	make_certs gw.test gw2.test partner.test
	dns_start gw.test=$GW gw2.test=$GW partner.test=$PA
	gw_conf "$1" "$2"
	xgwd_start "$PWD/xmppgwd.conf"
}

# send_expect_error COND: alice@partner.test messages bob@gw.test and
# must get back the error COND
send_expect_error() {
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to bob@gw.test --body "hello gateway" --wait-error 20 \
	    > client.out 2> client.err
	grep -q "^error [a-z]* $1" client.out ||
	    atf_fail "expected error $1, got: $(oneline "$(cat client.out client.err)")"
}

# stream_auth DIR: the authentication methods of the streams in DIR (a
# stream opened to verify a dialback key and the one carrying stanzas
# may be two: they live in different tls processes)
stream_auth() {
	"$(XGWCTL)" -j -s "$PWD/ctl.sock" show streams | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(set(s["authentication"] for s in d["streams"]
    if s["direction"] == sys.argv[1] and s["remote"] == "partner.test"))))' "$1"
}

# check_auth DIR METHODS: the streams in DIR are authenticated by METHODS
check_auth() {
	_got=$(stream_auth "$1")
	[ "$_got" = "$2" ] ||
	    atf_fail "$1 stream authentication: expected '$2', got '$_got'"
}

# expect_refused LOG-ERE: alice's message to bob@gw.test never reaches
# the gateway's policy (the stream is refused): she gets an error other
# than policy's service-unavailable, and the log names the rule
expect_refused() {
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to bob@gw.test --body "hello" --wait-error 30 > client.out 2>&1
	grep -q "^error " client.out ||
	    atf_fail "no error for the sender: $(oneline "$(cat client.out)")"
	grep -q "service-unavailable" client.out &&
	    atf_fail "the message went through"
	gw_log_has "$1"
}

gw_log_has() {
	wait_for 10 grep -q -E "$1" xmppgwd.log ||
	    atf_fail "xmppgwd log lacks /$1/: $(oneline "$(tail -n 8 xmppgwd.log)")"
}

STREAM_HDR="<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='partner.test' to='gw.test' version='1.0'>"
# what partner.test's server answers our outbound stream with
PARTNER_HDR="<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='partner.test' to='gw.test' id='fakeid1234' version='1.0'>"

atf_test_case sasl_external_both_ways cleanup
sasl_external_both_ways_head() {
	atf_set descr "valid certificates: SASL EXTERNAL in and out; a message to a local user comes back service-unavailable"
	atf_set require.user root
}
sasl_external_both_ways_body() {
	setup "tls required
	sasl required
	dialback no"
	send_expect_error service-unavailable
	check_auth in "SASL EXTERNAL"
	check_auth out "SASL EXTERNAL"
	"$(XGWCTL)" -s "$PWD/ctl.sock" show streams | grep -q 'TLSv1.[23]' ||
	    atf_fail "show streams has no TLS version"
	gw_log_has "partner.test authenticated by SASL EXTERNAL"
	# the partner and only its streams, both ways
	atf_check -o inline:"partner.test in,out partner.test\n" \
	    /usr/bin/python3 -c '
import json, subprocess, sys
d = json.loads(subprocess.run(sys.argv[1:], capture_output=True).stdout)
s = d["streams"]
print(d["partner"]["domain"], ",".join(sorted(set(x["direction"] for x in s))),
    ",".join(sorted(set(x["remote"] for x in s))))' \
	    "$(XGWCTL)" -j -s "$PWD/ctl.sock" show partner partner.test
}
sasl_external_both_ways_cleanup() { netns_destroy; }

atf_test_case check_partner_steps cleanup
check_partner_steps_head() {
	atf_set descr "xmppgwctl check partner against Prosody: DNS, TCP, features, TLS, certificate and SASL EXTERNAL, each step reported"
	atf_set require.user root
}
check_partner_steps_body() {
	setup "tls required
	sasl required
	dialback no"
	ctl check partner PARTNER.test > check.out 2> check.err ||
	    atf_fail "check failed: $(oneline "$(cat check.out check.err)")"
	# the steps in order, and what each found
	atf_check -o inline:"dns tcp features tls certificate features auth\n" \
	    awk 'NF > 1 && $2 == "ok" { printf "%s%s", n++ ? " " : "", $1 }
	    END { print "" }' check.out
	for _l in \
	    "^dns +ok +SRV _xmpp-server._tcp.partner.test: partner.test port 5269: 127.0.0.10:5269\$" \
	    "^tcp +ok +connected to 127.0.0.10:5269\$" \
	    "^features +ok +partner.test offers STARTTLS( \(required\))?( SASL EXTERNAL)? dialback\$" \
	    "^tls +ok +TLSv1.[23] " \
	    "^certificate +ok +authenticates partner.test \(subject .*partner.test.*, issuer .*\)" \
	    "^features +ok +partner.test offers SASL EXTERNAL" \
	    "^auth +ok +partner.test accepted SASL EXTERNAL for gw.test\$" \
	    "^partner.test: reachable; gw.test is authenticated to it by SASL EXTERNAL\$"
	do
		grep -q -E "$_l" check.out ||
		    atf_fail "check output lacks /$_l/: $(oneline "$(cat check.out)")"
	done
	# the same as JSON
	atf_check -o inline:"ok dns,tcp,features,tls,certificate,features,auth\n" \
	    /usr/bin/python3 -c '
import json, subprocess, sys
d = json.loads(subprocess.run(sys.argv[1:], capture_output=True).stdout)
print(d["result"], ",".join(s["step"] for s in d["steps"]
    if s["status"] == "ok"))' \
	    "$(XGWCTL)" -j -s "$PWD/ctl.sock" check partner partner.test
	# the probes end their streams: no outbound stream is left, since
	# no message has been sent yet
	wait_for 10 sh -c "[ -z \"\$(\"$(XGWCTL)\" -s \"$PWD/ctl.sock\" \
	    show streams | awk '\$1 == \"out\"')\" ]" ||
	    atf_fail "the probe's stream stayed: $(oneline "$(ctl show streams)")"
	# a message still gets through after the checks
	send_expect_error service-unavailable
}
check_partner_steps_cleanup() { netns_destroy; }

atf_test_case check_partner_failures cleanup
check_partner_failures_head() {
	atf_set descr "xmppgwctl check partner names the step that fails: an untrusted certificate with sasl required, no DNS, a refused connection, a stream error from the partner (its text made printable), no such partner"
	atf_set require.user root
}
check_partner_failures_body() {
	GW_EXTRA='partner "nowhere.test" {
	type federated
}
partner "closed.test" {
	type federated
	proxy "127.0.0.10" port 5999
}
partner "erring.test" {
	type federated
	proxy "127.0.0.10" port 5997
}' setup "tls required
	sasl required
	dialback yes" cert=selfsigned

	# check_fails DOMAIN STEP ERE: the check fails at STEP, whose line
	# matches ERE
	check_fails() {
		ctl check partner "$1" > check.out 2> check.err &&
		    atf_fail "check partner $1 succeeded: $(oneline "$(cat check.out)")"
		grep -q -x "xmppgwctl: $1: check failed at $2" check.err ||
		    atf_fail "check partner $1: expected failure at $2, got: $(oneline "$(cat check.err)")"
		grep -q -E "^$2 +failed +$3" check.out ||
		    atf_fail "check partner $1: no /$2 failed $3/ in: $(oneline "$(cat check.out)")"
	}
	check_fails partner.test auth \
	    "refusing partner.test: sasl required and certificate chain"
	grep -q -E "^certificate +warning +does not authenticate partner.test: certificate chain" check.out ||
	    atf_fail "no certificate warning: $(oneline "$(cat check.out)")"
	check_fails nowhere.test dns "DNS: no address for nowhere.test"
	check_fails closed.test tcp "s2s to closed.test: no address could be reached"
	grep -q -E "^tcp +failed +connect 127.0.0.10:5999: Connection refused\$" check.out ||
	    atf_fail "no refused connection: $(oneline "$(cat check.out)")"
	grep -q -E "^dns +ok +proxy 127.0.0.10 port 5999 \(SRV not used\): 127.0.0.10:5999\$" check.out ||
	    atf_fail "no proxy: $(oneline "$(cat check.out)")"
	# a partner that answers our header with a stream error; its text
	# reaches the terminal as printable ASCII only
	e_acute=$(printf '\303\251')
	rawpeer_start erring --listen 127.0.0.10 5997 \
	    "expect <stream:stream[^>]*to='erring.test'" \
	    "send <?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='erring.test' to='gw.test' id='e1' version='1.0'><stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no gw.test here, caf$e_acute</text></stream:error></stream:stream>" \
	    "expect-eof"
	check_fails erring.test stream \
	    "stream error from the peer: <host-unknown/> no gw.test here, caf\?\?\$"
	bg_wait erring || atf_fail "the erring partner: $(oneline "$(cat erring.err)")"
	atf_check -s exit:1 -e inline:"xmppgwctl: no partner other.test\n" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" check partner other.test
}
check_partner_failures_cleanup() { netns_destroy; }

atf_test_case check_partner_limits cleanup
check_partner_limits_head() {
	atf_set descr "xmppgwctl check partner: at most 8 at once, the 9th told to try again; the checks of a tls process that dies fail and say so; then a check works again"
	atf_set require.user root
}
check_partner_limits_body() {
	GW_EXTRA='partner "silent.test" {
	type federated
	proxy "127.0.0.10" port 5998
}' setup "tls required
	sasl optional
	dialback yes"
	# a server that lets connections in (the kernel's backlog) and
	# never says a word
	nsenter --net="/run/netns/$(cat netns)" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.10", 5998))
s.listen(16)
open(sys.argv[1], "w").close()
time.sleep(60)' "$PWD/silent.ready" > silent.out 2>&1 &
	echo $! > silent.pid
	wait_for 10 test -f silent.ready ||
	    atf_fail "the silent server did not start: $(oneline "$(cat silent.out)")"
	for _i in 1 2 3 4 5 6 7 8; do
		"$(XGWCTL)" -s "$PWD/ctl.sock" check partner silent.test \
		    > check$_i.out 2>&1 &
		echo $! > check$_i.pid
	done
	wait_for 10 sh -c "[ \$(\"$(XGWCTL)\" -s \"$PWD/ctl.sock\" show streams |
	    grep -c silent.test) -eq 8 ]" ||
	    atf_fail "8 checks did not start: $(oneline "$(ctl show streams; cat check*.out)")"
	atf_check -s exit:1 -e inline:"xmppgwctl: too many checks under way: try again\n" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" check partner silent.test
	# the tls processes die: every check fails at once, saying why
	for _p in $(ps -o pid= --ppid "$(cat xmppgwd.pid)" -o args= |
	    awk '$2 == "xmppgwd:" && $3 == "tls" { print $1 }'); do
		kill -KILL "$_p"
	done
	for _i in 1 2 3 4 5 6 7 8; do
		bg_wait check$_i && atf_fail "check $_i succeeded"
		grep -q -x "xmppgwctl: the tls process ended during the check" check$_i.out ||
		    atf_fail "check $_i: $(oneline "$(cat check$_i.out)")"
	done
	# restarted, the gateway checks again
	wait_for 10 sh -c "[ \$(\"$(XGWCTL)\" -s \"$PWD/ctl.sock\" status |
	    grep -c -E '^tls\\[[01]\\] +[0-9]+ +[0-9:]+ +1\$') -eq 2 ]" ||
	    atf_fail "tls not restarted: $(oneline "$(ctl status)")"
	wait_for 10 "$(XGWCTL)" -s "$PWD/ctl.sock" check partner partner.test \
	    > check.out 2>&1 ||
	    atf_fail "no check after the restart: $(oneline "$(cat check.out)")"
}
check_partner_limits_cleanup() { netns_destroy; }

atf_test_case certificate_request_accepted_by_prosody cleanup
certificate_request_accepted_by_prosody_head() {
	atf_set descr "xmppgwctl certificate request makes a key and a CSR; signed by a CA Prosody trusts, the certificate authenticates gw.test by SASL EXTERNAL both ways"
	atf_set require.user root
}
certificate_request_accepted_by_prosody_body() {
	ensure_user
	netns_create
	make_certs partner.test
	(cd certs && "$(XGWCTL)" certificate request GW.test) > req.out 2>&1 ||
	    atf_fail "certificate request: $(oneline "$(cat req.out)")"
	[ "$(stat -c %a certs/gw.test.key)" = 600 ] ||
	    atf_fail "key mode $(stat -c %a certs/gw.test.key)"
	atf_check -s exit:1 -e match:"gw.test.key: File exists" \
	    sh -c "cd certs && '$(XGWCTL)' certificate request gw.test"
	atf_check -s exit:1 -e match:"not a domain name" \
	    "$(XGWCTL)" certificate request bad..test
	atf_check -s exit:0 -o ignore -e ignore openssl req -in certs/gw.test.csr \
	    -noout -verify
	openssl req -in certs/gw.test.csr -noout -text > csr.txt
	for re in "Subject: CN *= *gw.test" "DNS:gw.test" \
	    "SRVName::_xmpp-server.gw.test" "XmppAddr::gw.test" \
	    "TLS Web Server Authentication, TLS Web Client Authentication"; do
		grep -q "$re" csr.txt || atf_fail "the request lacks $re"
	done
	openssl x509 -req -in certs/gw.test.csr -CA certs/ca.crt \
	    -CAkey certs/ca.key -CAcreateserial -days 2 -copy_extensions copy \
	    -out certs/gw.test.crt 2> sign.err ||
	    atf_fail "signing: $(oneline "$(cat sign.err)")"
	make_certs gw2.test
	dns_start gw.test=$GW gw2.test=$GW partner.test=$PA
	prosody_start p partner.test $PA
	prosody_register p alice partner.test pw
	gw_conf "tls required
	sasl required
	dialback no"
	xgwd_start "$PWD/xmppgwd.conf"
	send_expect_error service-unavailable
	check_auth in "SASL EXTERNAL"
	check_auth out "SASL EXTERNAL"
}
certificate_request_accepted_by_prosody_cleanup() { netns_destroy; }

atf_test_case serverauth_only_certificates_both_ways cleanup
serverauth_only_certificates_both_ways_head() {
	atf_set descr "certificates with EKU serverAuth only (Let's Encrypt's since 2026), ours and Prosody's: SASL EXTERNAL in and out"
	atf_set require.user root
}
serverauth_only_certificates_both_ways_body() {
	make_certs gw.test gw2.test partner.test
	_peers_cert serveronly gw.test certs ||
	    atf_fail "cannot make a serverAuth-only certificate"
	atf_check -o match:"^ +TLS Web Server Authentication$" \
	    openssl x509 -in certs/gw.test.crt -noout -ext extendedKeyUsage
	setup "tls required
	sasl required
	dialback no" cert=serveronly
	send_expect_error service-unavailable
	check_auth in "SASL EXTERNAL"
	check_auth out "SASL EXTERNAL"
}
serverauth_only_certificates_both_ways_cleanup() { netns_destroy; }

atf_test_case dialback_when_certificate_self_signed cleanup
dialback_when_certificate_self_signed_head() {
	atf_set descr "Prosody with a self-signed certificate: dialback over TLS in and out, with the reason logged"
	atf_set require.user root
}
dialback_when_certificate_self_signed_body() {
	setup "tls required
	sasl optional
	dialback yes" cert=selfsigned
	send_expect_error service-unavailable
	check_auth in "dialback over TLS"
	check_auth out "dialback over TLS"
	gw_log_has "certificate does not authenticate partner.test: certificate chain"
	gw_log_has "partner.test authenticated by dialback over TLS"
	gw_log_has "dialback key for gw.test -> partner.test is valid"
	# check partner: the certificate warns, dialback authenticates
	ctl check partner partner.test > check.out 2>&1 ||
	    atf_fail "check failed: $(oneline "$(cat check.out)")"
	grep -q -E "^certificate +warning +does not authenticate partner.test: certificate chain" check.out ||
	    atf_fail "no certificate warning: $(oneline "$(cat check.out)")"
	grep -q -x "partner.test: reachable; gw.test is authenticated to it by dialback over TLS" check.out ||
	    atf_fail "check did not end in dialback: $(oneline "$(cat check.out)")"
}
dialback_when_certificate_self_signed_cleanup() { netns_destroy; }

atf_test_case dialback_when_certificate_wrong_name cleanup
dialback_when_certificate_wrong_name_head() {
	atf_set descr "Prosody with a CA-signed certificate for another name: dialback, the name mismatch logged"
	atf_set require.user root
}
dialback_when_certificate_wrong_name_body() {
	setup "tls optional
	sasl optional
	dialback yes" cert=wrongname
	send_expect_error service-unavailable
	check_auth in "dialback over TLS"
	gw_log_has "certificate does not authenticate partner.test: certificate is for"
}
dialback_when_certificate_wrong_name_cleanup() { netns_destroy; }

atf_test_case dialback_over_tcp cleanup
dialback_over_tcp_head() {
	atf_set descr "tls not supported, sasl not supported, dialback yes against a Prosody without TLS: dialback over TCP"
	atf_set require.user root
}
dialback_over_tcp_body() {
	setup "tls not supported
	sasl not supported
	dialback yes" tls=off require_encryption=false
	send_expect_error service-unavailable
	check_auth in "dialback over TCP"
	check_auth out "dialback over TCP"
}
dialback_over_tcp_cleanup() { netns_destroy; }

atf_test_case tls_required_refuses_plaintext_peer cleanup
tls_required_refuses_plaintext_peer_head() {
	atf_set descr "our tls required against a Prosody that will not encrypt: refused, the rule logged"
	atf_set require.user root
}
tls_required_refuses_plaintext_peer_body() {
	setup "tls required
	sasl optional
	dialback yes" tls=off require_encryption=false
	expect_refused "refused: partner partner.test has tls required"
	check_auth in ""
}
tls_required_refuses_plaintext_peer_cleanup() { netns_destroy; }

atf_test_case dialback_no_refuses_untrusted_certificate cleanup
dialback_no_refuses_untrusted_certificate_head() {
	atf_set descr "our dialback no against a peer whose certificate does not validate: refused, the rule logged"
	atf_set require.user root
}
dialback_no_refuses_untrusted_certificate_body() {
	setup "tls required
	sasl optional
	dialback no" cert=selfsigned
	expect_refused "refusing partner.test: dialback no, and the certificate does not authenticate it"
}
dialback_no_refuses_untrusted_certificate_cleanup() { netns_destroy; }

atf_test_case sasl_required_refuses_untrusted_certificate cleanup
sasl_required_refuses_untrusted_certificate_head() {
	atf_set descr "our sasl required against a peer whose certificate does not validate: refused although dialback is allowed"
	atf_set require.user root
}
sasl_required_refuses_untrusted_certificate_body() {
	setup "tls required
	sasl required
	dialback yes" cert=selfsigned
	expect_refused "sasl required"
}
sasl_required_refuses_untrusted_certificate_cleanup() { netns_destroy; }

atf_test_case non_partner_refused cleanup
non_partner_refused_head() {
	atf_set descr "a domain that is not a partner is refused, and the gateway never connects to it"
	atf_set require.user root
}
non_partner_refused_body() {
	ensure_user
	netns_create
	make_certs gw.test gw2.test partner.test
	dns_start gw.test=$GW gw2.test=$GW partner.test=$PA
	prosody_start p partner.test $PA
	prosody_register p alice partner.test pw
	gw_conf "tls required" 'partner "other.test" { tls required sasl required dialback no }'
	sed -i 's/^partner "partner.test"/partner "somebody.test"/' xmppgwd.conf
	xgwd_start "$PWD/xmppgwd.conf"
	expect_refused "partner.test is not a configured partner"
	grep -q "_xmpp-server._tcp.partner.test" dnsmasq.log &&
	    atf_fail "the gateway looked up the non-partner"
	check_auth out ""
}
non_partner_refused_cleanup() { netns_destroy; }

# attacks, with a scripted raw peer playing partner.test

atf_test_case starttls_injection_discarded cleanup
starttls_injection_discarded_head() {
	atf_set descr "bytes sent after <starttls/> in the same write are discarded, not processed after TLS"
	atf_set require.user root
}
starttls_injection_discarded_body() {
	setup_raw "tls required
	sasl optional
	dialback yes"
	rawpeer --connect $GW 5269 \
	    "send $STREAM_HDR" \
	    "expect <stream:features>.*starttls" \
	    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><db:result from='partner.test' to='gw.test'>injected</db:result>" \
	    "expect <proceed" \
	    "starttls" \
	    "send $STREAM_HDR" \
	    "expect <stream:features>" \
	    "absent -t 2 db:result" > raw.out 2>&1 ||
	    atf_fail "raw peer: $(oneline "$(cat raw.out)")"
	grep -q "_xmpp-server._tcp.partner.test" dnsmasq.log &&
	    atf_fail "the injected dialback request was processed"
	grep -q "injected" xmppgwd.log && atf_fail "the injected bytes reached the stream"
	return 0
}
starttls_injection_discarded_cleanup() { netns_destroy; }

atf_test_case restricted_xml_refused cleanup
restricted_xml_refused_head() {
	atf_set descr "DOCTYPE, comments and processing instructions get <restricted-xml/>"
	atf_set require.user root
}
restricted_xml_refused_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	for bad in "<!-- hello -->" "<?evil stuff?>"; do
		rawpeer --connect $GW 5269 "send $STREAM_HDR$bad" \
		    "expect <restricted-xml" "expect-eof" > raw.out 2>&1 ||
		    atf_fail "$bad: $(oneline "$(cat raw.out)")"
	done
	rawpeer --connect $GW 5269 \
	    "send <?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;'>]>" \
	    "expect <restricted-xml" > raw.out 2>&1 ||
	    atf_fail "DOCTYPE: $(oneline "$(cat raw.out)")"
}
restricted_xml_refused_cleanup() { netns_destroy; }

atf_test_case preauth_byte_budget cleanup
preauth_byte_budget_head() {
	atf_set descr "more than 16 KiB before authentication ends the stream with <policy-violation/>"
	atf_set require.user root
}
preauth_byte_budget_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	spaces=$(printf '20%.0s' $(seq 17000))
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send-hex $spaces" "expect <policy-violation.*before authentication" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
}
preauth_byte_budget_cleanup() { netns_destroy; }

atf_test_case oversized_stanza_refused cleanup
oversized_stanza_refused_head() {
	atf_set descr "on an authenticated stream a stanza over stanza-size ends the stream with <policy-violation/> while it is still arriving, and one under it does not"
	atf_set require.user root
}
oversized_stanza_refused_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes" "limits { stanza-size 10000 }"
	msg="<message from='a@partner.test' to='b@gw.test'><body>"
	big=$(printf '%12000s' '' | tr ' ' x)
	fits=$(printf '%9000s' '' | tr ' ' x)
	sasl_peer "send $msg$fits</body></message>" "send $msg$big" \
	    "expect <policy-violation.*larger than 10000" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
}
oversized_stanza_refused_cleanup() { netns_destroy; }

atf_test_case preauth_memory_bounded cleanup
preauth_memory_bounded_head() {
	atf_set descr "before authentication a stanza may be at most 4096 bytes, so 200 unauthenticated streams filled with empty elements cost at most 96 KiB each at the peak (a 16 KiB stanza tree took 657 KiB)"
	atf_set require.user root
}
preauth_memory_bounded_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes" "limits { per-partner 1000 }"
	big=$(printf '%5000s' '' | tr ' ' x)
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send <message from='a@partner.test' to='b@gw.test'><body>$big" \
	    "expect <policy-violation.*larger than 4096" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	preauth 20
	for _p in $(tls_pids); do
		echo 5 > /proc/$_p/clear_refs ||
		    atf_fail "cannot reset the peak RSS of $_p"
	done
	rss=$(tls_mem VmRSS)
	preauth 200
	peak=$(tls_mem VmHWM)
	echo "tls processes: $rss KiB before, $peak KiB at the peak"
	[ $(((peak - rss) / 200)) -le 96 ] || atf_fail "200 unauthenticated \
streams took $((peak - rss)) KiB at the peak"
}
preauth_memory_bounded_cleanup() { netns_destroy; }

atf_test_case idle_stream_memory_bounded cleanup
idle_stream_memory_bounded_head() {
	atf_set descr "an idle authenticated stream (STARTTLS, SASL EXTERNAL) holds at most 64 KiB in the tls processes (make bench measures about 47)"
	atf_set require.user root
}
idle_stream_memory_bounded_body() {
	setup_raw "tls required
	sasl required
	dialback no" "limits { per-partner 1000 }"
	# the first streams warm the allocator and the session caches up
	idle_streams warm 20
	rss=$(tls_mem VmRSS)
	idle_streams held 200
	now=$(tls_mem VmRSS)
	echo "tls processes: $rss KiB with 20 idle streams, $now with 220"
	[ $(((now - rss) / 200)) -le 64 ] || atf_fail "200 idle \
authenticated streams took $((now - rss)) KiB"
}
idle_stream_memory_bounded_cleanup() { netns_destroy; }

# idle_streams NAME N: N more authenticated streams held open, idle, by
# a churn.py in the background (./NAME.pid) until the test ends
idle_streams() {
	rm -f "$1.ready"
	nsenter --net="/run/netns/$(cat netns)" "$PEERS_PYTHON" \
	    "$(peers_lib)/churn.py" --idle $GW 5269 "$2" \
	    "$PWD/certs/partner.test.crt" "$PWD/certs/partner.test.key" \
	    "$PWD/$1.ready" > "$1.out" 2>&1 &
	echo $! > "$1.pid"
	wait_alive "$1" 60 test -s "$1.ready" ||
	    atf_fail "idle streams: $(oneline "$(cat "$1.out")")"
}

# preauth N: N unauthenticated streams at once, each filled with empty
# elements up to its 16 KiB, then pushed over it
preauth() {
	netns_exec "$PEERS_PYTHON" "$(peers_lib)/churn.py" --preauth $GW 5269 \
	    "$1" 15000 > preauth.out 2>&1 ||
	    atf_fail "preauth: $(oneline "$(cat preauth.out)")"
}

# sasl_peer SCRIPT-STEPS...: a raw partner.test that authenticates by
# SASL EXTERNAL with its CA-signed certificate, then runs the steps
sasl_peer() {
	rawpeer --connect $GW 5269 \
	    "send $STREAM_HDR" "expect <starttls" \
	    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
	    "expect <proceed" \
	    "starttls --cert $PWD/certs/partner.test.crt --key $PWD/certs/partner.test.key" \
	    "send $STREAM_HDR" "expect EXTERNAL" \
	    "send <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>" \
	    "expect <success" "send $STREAM_HDR" "expect <stream:features" "$@"
}

atf_test_case sasl_abuse_refused cleanup
sasl_abuse_refused_head() {
	atf_set descr "SASL before STARTTLS, a mechanism other than EXTERNAL, an authzid for another domain and a first header to an unknown domain all fail, and nothing is authenticated (CVE-2014-8760, MongooseIM cases)"
	atf_set require.user root
}
sasl_abuse_refused_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	auth="<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism"
	tls="send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	cert="starttls --cert $PWD/certs/partner.test.crt --key $PWD/certs/partner.test.key"
	# EXTERNAL on the plaintext stream, where it is not offered
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send $auth='EXTERNAL'>=</auth>" "expect -t 5 <failure[^>]*><encryption-required/>" \
	    > raw.out 2>&1 || atf_fail "before TLS: $(oneline "$(cat raw.out)")"
	# PLAIN, after TLS with a valid certificate
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
	    "$tls" "expect <proceed" "$cert" "send $STREAM_HDR" "expect EXTERNAL" \
	    "send $auth='PLAIN'>AGFsaWNlAHB3</auth>" "expect -t 5 <failure[^>]*><invalid-mechanism" \
	    > raw.out 2>&1 || atf_fail "PLAIN: $(oneline "$(cat raw.out)")"
	# EXTERNAL asking to be victim.test (base64)
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
	    "$tls" "expect <proceed" "$cert" "send $STREAM_HDR" "expect EXTERNAL" \
	    "send $auth='EXTERNAL'>$(printf victim.test | base64)</auth>" \
	    "expect -t 5 <failure[^>]*><invalid-authzid/>" \
	    > raw.out 2>&1 || atf_fail "authzid: $(oneline "$(cat raw.out)")"
	# a first header to a domain that is not ours
	rawpeer --connect $GW 5269 \
	    "send $(echo "$STREAM_HDR" | sed "s/to='gw.test'/to='unknown.test'/")" \
	    "expect -t 5 <host-unknown" > raw.out 2>&1 ||
	    atf_fail "unknown to: $(oneline "$(cat raw.out)")"
	grep -q "SASL EXTERNAL for partner.test refused: no TLS" xmppgwd.log ||
	    atf_fail "no log line for SASL before TLS"
	grep -q "SASL EXTERNAL for partner.test refused: authorization identity differs" xmppgwd.log ||
	    atf_fail "no log line for the authzid"
	grep -q "authenticated by" xmppgwd.log &&
	    atf_fail "something authenticated: $(oneline "$(grep 'authenticated by' xmppgwd.log)")"
	return 0
}
sasl_abuse_refused_cleanup() { netns_destroy; }

atf_test_case invalid_from_refused cleanup
invalid_from_refused_head() {
	atf_set descr "after authenticating as partner.test, a stanza from another domain gets <invalid-from/>"
	atf_set require.user root
}
invalid_from_refused_body() {
	setup_raw "tls required
	sasl optional
	dialback yes"
	sasl_peer "send <message from='ceo@victim.test' to='bob@gw.test'><body>x</body></message>" \
	    "expect <invalid-from" > raw.out 2>&1 ||
	    atf_fail "$(oneline "$(cat raw.out)")"
	grep -q "ceo@victim.test to bob" xmppgwd.log &&
	    atf_fail "the stanza reached policy"
	sasl_peer "send <message to='bob@gw.test'><body>x</body></message>" \
	    "expect <improper-addressing" > raw.out 2>&1 ||
	    atf_fail "no from: $(oneline "$(cat raw.out)")"
	sasl_peer "send <message from='a@partner.test' to='bob@elsewhere.test'><body>x</body></message>" \
	    "expect <host-unknown" > raw.out 2>&1 ||
	    atf_fail "foreign to: $(oneline "$(cat raw.out)")"
	sasl_peer "send <message from='a@partner.test'><body>x</body></message>" \
	    "expect <improper-addressing" > raw.out 2>&1 ||
	    atf_fail "no to: $(oneline "$(cat raw.out)")"
}
invalid_from_refused_cleanup() { netns_destroy; }

atf_test_case stream_header_errors cleanup
stream_header_errors_head() {
	atf_set descr "a stream header of another major version, without 'to', with a wrong stream namespace or in the client namespace, and a stream that is not well-formed, each end with their RFC 6120 stream error"
	atf_set require.user root
}
stream_header_errors_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	ns="xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'"
	x="<?xml version='1.0'?><stream:stream"
	for c in \
	    "unsupported-version|$x xmlns='jabber:server' $ns from='partner.test' to='gw.test' version='2.0'>" \
	    "unsupported-version|$x xmlns='jabber:server' $ns to='gw.test' version='2.0'>" \
	    "host-unknown|$x xmlns='jabber:server' $ns from='partner.test' version='1.0'>" \
	    "invalid-namespace|$x xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/wrong' from='partner.test' to='gw.test' version='1.0'>" \
	    "invalid-namespace|$x xmlns='jabber:client' $ns from='partner.test' to='gw.test' version='1.0'><message to='b@gw.test'/>" \
	    "not-well-formed|$STREAM_HDR<a></b>"; do
		rawpeer --connect $GW 5269 "send ${c#*|}" "expect <${c%%|*}" \
		    "expect-eof" > raw.out 2>&1 ||
		    atf_fail "${c%%|*}: $(oneline "$(cat raw.out)")"
	done
}
stream_header_errors_cleanup() { netns_destroy; }

atf_test_case stanza_before_auth_refused cleanup
stanza_before_auth_refused_head() {
	atf_set descr "a stanza before authentication gets <not-authorized/> and reaches nobody"
	atf_set require.user root
}
stanza_before_auth_refused_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send <message from='ceo@partner.test' to='bob@gw.test'><body>x</body></message>" \
	    "expect <not-authorized" > raw.out 2>&1 ||
	    atf_fail "$(oneline "$(cat raw.out)")"
	grep -q "ceo@partner.test" xmppgwd.log && atf_fail "the stanza reached policy"
	return 0
}
stanza_before_auth_refused_cleanup() { netns_destroy; }

atf_test_case unsolicited_dialback_results_refused cleanup
unsolicited_dialback_results_refused_head() {
	atf_set descr "db:result and db:verify with a type nobody asked for authorise nothing (XSF 2012)"
	atf_set require.user root
}
unsolicited_dialback_results_refused_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	for e in "<db:result from='partner.test' to='gw.test' type='valid'/>" \
	    "<db:verify from='partner.test' to='gw.test' id='x' type='valid'/>"; do
		rawpeer --connect $GW 5269 "send $STREAM_HDR" \
		    "expect <stream:features" "send $e" \
		    "send <message from='a@partner.test' to='bob@gw.test'><body>x</body></message>" \
		    "expect <not-authorized.*unsolicited" "expect-eof" \
		    > raw.out 2>&1 || atf_fail "$e: $(oneline "$(cat raw.out)")"
	done
	grep -q "a@partner.test to bob" xmppgwd.log && atf_fail "a stanza reached policy"
	return 0
}
unsolicited_dialback_results_refused_cleanup() { netns_destroy; }

atf_test_case invalid_dialback_key_refused cleanup
invalid_dialback_key_refused_head() {
	atf_set descr "a wrong dialback key is checked with the real authoritative server (Prosody) and refused; nothing gets through"
	atf_set require.user root
}
invalid_dialback_key_refused_body() {
	setup "tls optional
	sasl optional
	dialback yes"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send <db:result from='partner.test' to='gw.test'>0123456789abcdef</db:result>" \
	    "expect -t 20 type=.invalid" \
	    "send <message from='a@partner.test' to='bob@gw.test'><body>x</body></message>" \
	    "expect-eof" > raw.out 2>&1 ||
	    atf_fail "$(oneline "$(cat raw.out)")"
	gw_log_has "dialback for partner.test failed"
	grep -q "a@partner.test to bob" xmppgwd.log && atf_fail "a stanza reached policy"
	return 0
}
invalid_dialback_key_refused_cleanup() { netns_destroy; }

atf_test_case restart_cannot_switch_hosts cleanup
restart_cannot_switch_hosts_head() {
	atf_set descr "the header after STARTTLS or SASL must keep to and from (CVE-2018-10847)"
	atf_set require.user root
}
restart_cannot_switch_hosts_body() {
	setup_raw "tls required
	sasl optional
	dialback yes"
	hdr2=$(echo "$STREAM_HDR" | sed "s/to='gw.test'/to='gw2.test'/")
	hdr3=$(echo "$STREAM_HDR" | sed "s/from='partner.test'/from='partner2.test'/")
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
	    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
	    "expect <proceed" "starttls" "send $hdr2" "expect <host-unknown" \
	    > raw.out 2>&1 || atf_fail "to: $(oneline "$(cat raw.out)")"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
	    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
	    "expect <proceed" "starttls" "send $hdr3" "expect <invalid-from" \
	    > raw.out 2>&1 || atf_fail "from: $(oneline "$(cat raw.out)")"
	# the same after SASL <success/>
	for h in "$hdr2 <host-unknown" "$hdr3 <invalid-from"; do
		rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
		    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
		    "expect <proceed" \
		    "starttls --cert $PWD/certs/partner.test.crt --key $PWD/certs/partner.test.key" \
		    "send $STREAM_HDR" "expect EXTERNAL" \
		    "send <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>" \
		    "expect <success" "send ${h% *}" "expect ${h##* }" \
		    "expect-eof" > raw.out 2>&1 ||
		    atf_fail "after SASL: $(oneline "$(cat raw.out)")"
	done
}
restart_cannot_switch_hosts_cleanup() { netns_destroy; }

atf_test_case dialback_namespace_not_prefix cleanup
dialback_namespace_not_prefix_head() {
	atf_set descr "dialback is recognised by namespace: any prefix works, a bogus db: binding does not"
	atf_set require.user root
}
dialback_namespace_not_prefix_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	hdr=$(echo "$STREAM_HDR" | sed "s/xmlns:db=/xmlns:x=/")
	# partner.test (127.0.0.10) is not listening: the check fails, which
	# the peer is told with a dialback error for that pair
	rawpeer --connect $GW 5269 "send $hdr" "expect <stream:features" \
	    "send <x:result from='partner.test' to='gw.test'>0123</x:result>" \
	    "expect -t 20 result from='gw.test' to='partner.test' type='error'" \
	    > raw.out 2>&1 || atf_fail "x: prefix: $(oneline "$(cat raw.out)")"
	hdr=$(echo "$STREAM_HDR" | sed "s/jabber:server:dialback/urn:bogus/")
	rawpeer --connect $GW 5269 "send $hdr" "expect <stream:features" \
	    "send <db:result from='partner.test' to='gw.test'>0123</db:result>" \
	    "expect <unsupported-stanza-type" > raw.out 2>&1 ||
	    atf_fail "bogus db: $(oneline "$(cat raw.out)")"
}
dialback_namespace_not_prefix_cleanup() { netns_destroy; }

# fake_partner_listen: a raw partner.test server on $PA:5269 that accepts
# our outbound stream and says yes to our dialback key, then runs STEPS
fake_partner_listen() {
	rawpeer_start fake --listen $PA 5269 --ready-file "$PWD/fake.ready" \
	    "expect <stream:stream" \
	    "send $PARTNER_HDR<stream:features/>" \
	    "expect <db:result from='gw.test' to='partner.test'>[0-9a-f]{64}</db:result>" \
	    "send <db:result from='partner.test' to='gw.test' type='valid'/>" \
	    "$@"
}

atf_test_case ping_to_our_domain_answered cleanup
ping_to_our_domain_answered_head() {
	atf_set descr "an XEP-0199 ping to our domain is answered over our own stream to the partner"
	atf_set require.user root
}
ping_to_our_domain_answered_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	fake_partner_listen "expect <iq[^>]*type='result'" "expect id='ping-1'"
	sasl_peer "send <iq type='get' from='partner.test' to='gw.test' id='ping-1'><ping xmlns='urn:xmpp:ping'/></iq>" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	bg_wait fake || atf_fail "no ping result: $(oneline "$(cat fake.out fake.err)")"
}
ping_to_our_domain_answered_cleanup() { netns_destroy; }

atf_test_case unreachable_partner_bounces_queue cleanup
unreachable_partner_bounces_queue_head() {
	atf_set descr "a stanza queued for a partner whose server cannot be reached comes back as remote-server-not-found"
	atf_set require.user root
}
unreachable_partner_bounces_queue_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	# nothing listens on partner.test's address
	sasl_peer "send <iq type='get' from='partner.test' to='gw.test' id='ping-2'><ping xmlns='urn:xmpp:ping'/></iq>" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	gw_log_has "error <remote-server-not-found/> from partner.test to gw.test"
	gw_log_has "closed: s2s to partner.test: no address could be reached|could not be reached"
}
unreachable_partner_bounces_queue_cleanup() { netns_destroy; }

# matrix_row TLS SASL DIALBACK METHOD [PROSODY-OPTIONS]: a valid row of
# the negotiation matrix against Prosody with a valid certificate
matrix_row() {
	_t=$1 _s=$2 _d=$3 _m=$4; shift 4
	setup "tls $_t
	sasl $_s
	dialback $_d" "$@"
	send_expect_error service-unavailable
	check_auth in "$_m"
}

atf_test_case matrix_row1_req_req_yes cleanup
matrix_row1_req_req_yes_head() { atf_set descr "tls required, sasl required, dialback yes: SASL EXTERNAL"; atf_set require.user root; }
matrix_row1_req_req_yes_body() { matrix_row required required yes "SASL EXTERNAL"; }
matrix_row1_req_req_yes_cleanup() { netns_destroy; }

atf_test_case matrix_row8_req_opt_no cleanup
matrix_row8_req_opt_no_head() { atf_set descr "tls required, sasl optional, dialback no: SASL EXTERNAL"; atf_set require.user root; }
matrix_row8_req_opt_no_body() { matrix_row required optional no "SASL EXTERNAL"; }
matrix_row8_req_opt_no_cleanup() { netns_destroy; }

atf_test_case matrix_row13_req_ns_yes cleanup
matrix_row13_req_ns_yes_head() { atf_set descr "tls required, sasl not supported, dialback yes: dialback over TLS although the certificate is valid"; atf_set require.user root; }
matrix_row13_req_ns_yes_body() { matrix_row required "not supported" yes "dialback over TLS"; }
matrix_row13_req_ns_yes_cleanup() { netns_destroy; }

atf_test_case matrix_row15_opt_ns_yes cleanup
matrix_row15_opt_ns_yes_head() { atf_set descr "tls optional, sasl not supported, dialback yes: dialback over TLS"; atf_set require.user root; }
matrix_row15_opt_ns_yes_body() { matrix_row optional "not supported" yes "dialback over TLS"; }
matrix_row15_opt_ns_yes_cleanup() { netns_destroy; }

atf_test_case matrix_row10_opt_opt_no cleanup
matrix_row10_opt_opt_no_head() { atf_set descr "tls optional, sasl optional, dialback no: SASL EXTERNAL"; atf_set require.user root; }
matrix_row10_opt_opt_no_body() { matrix_row optional optional no "SASL EXTERNAL"; }
matrix_row10_opt_opt_no_cleanup() { netns_destroy; }

atf_test_case tls_renegotiation_refused cleanup
tls_renegotiation_refused_head() {
	atf_set descr "openssl s_client -starttls xmpp-server (no 'from') gets TLS 1.2+ without compression, and a renegotiation is refused"
	atf_set require.user root
}
tls_renegotiation_refused_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	# "R" asks s_client to renegotiate, once the handshake is done
	mkfifo sclient.in
	timeout 30 nsenter --net="/run/netns/$(cat netns)" \
	    openssl s_client -connect $GW:5269 -starttls xmpp-server \
	    -xmpphost gw.test -tls1_2 -comp < sclient.in > sclient.out 2>&1 &
	echo $! > sclient.pid
	exec 3> sclient.in
	wait_for 15 grep -q "Verify return code" sclient.out ||
	    atf_fail "no TLS: $(oneline "$(tail -n 5 sclient.out)")"
	grep -q "Cipher is ECDHE" sclient.out ||
	    atf_fail "no TLS: $(oneline "$(tail -n 5 sclient.out)")"
	# CRIME: compression offered (-comp), none taken
	grep -q "^Compression: NONE" sclient.out ||
	    atf_fail "compression: $(oneline "$(grep -i compression sclient.out)")"
	printf 'R\n' >&3
	wait_for 15 grep -q "no renegotiation" sclient.out ||
	    atf_fail "renegotiation not refused: $(oneline "$(tail -n 5 sclient.out)")"
	exec 3>&-
	printf '' | timeout 20 nsenter --net="/run/netns/$(cat netns)" \
	    openssl s_client -connect $GW:5269 -starttls xmpp-server \
	    -xmpphost gw.test -tls1_1 > sclient11.out 2>&1
	grep -q "Cipher is (NONE)" sclient11.out ||
	    atf_fail "TLS 1.1 accepted: $(oneline "$(tail -n 5 sclient11.out)")"
}
tls_renegotiation_refused_cleanup() { netns_destroy; }

atf_test_case establish_timeout_closes cleanup
establish_timeout_closes_head() {
	atf_set descr "a stream not authenticated within the establish timeout gets <connection-timeout/>, also a silent peer, a stalled TLS handshake and a header trickled byte by byte"
	atf_set require.user root
}
establish_timeout_closes_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes" "timeouts { establish 2 }"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "expect -t 15 <connection-timeout" "expect-eof" > raw.out 2>&1 ||
	    atf_fail "$(oneline "$(cat raw.out)")"
	# slowloris: silent after connecting, silent in the TLS handshake,
	# and a header trickled a byte a second all end the same way
	rawpeer --connect $GW 5269 "expect-eof -t 15" > raw.out 2>&1 ||
	    atf_fail "silent peer: $(oneline "$(cat raw.out)")"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
	    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
	    "expect <proceed" "expect-eof -t 15" > raw.out 2>&1 ||
	    atf_fail "stalled handshake: $(oneline "$(cat raw.out)")"
	trickle=$(echo "$STREAM_HDR" | cut -c1-8 | sed 's/./"send &" "sleep 1" /g')
	eval "set -- $trickle"
	start=$(date +%s)
	rawpeer --connect $GW 5269 "$@" > raw.out 2>&1 &&
	    atf_fail "the trickle was read to its end: $(oneline "$(cat raw.out)")"
	[ $(($(date +%s) - start)) -le 6 ] ||
	    atf_fail "the trickle kept the stream for $(($(date +%s) - start)) s"
	return 0
}
establish_timeout_closes_cleanup() { netns_destroy; }

atf_test_case read_rate_limited cleanup
read_rate_limited_head() {
	atf_set descr "limits read-rate: a partner sending faster is read at that rate (its TCP window fills), not cut off, and the log says so once"
	atf_set require.user root
}
read_rate_limited_body() {
	setup_raw "tls required
	sasl optional
	dialback yes" "limits { read-rate 4096 }"
	pad=$(printf 'x%.0s' $(seq 1000))
	batch=""
	for i in $(seq 24); do
		batch="$batch<message from='a@partner.test' to='bob@gw.test' id='m$i'><body>$pad</body></message>"
	done
	# about 26 kB at once: 4 kB/s lets the last through after 3 s or so
	start=$(date +%s)
	rawpeer_start peer --connect $GW 5269 \
	    "send $STREAM_HDR" "expect <starttls" \
	    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
	    "expect <proceed" \
	    "starttls --cert $PWD/certs/partner.test.crt --key $PWD/certs/partner.test.key" \
	    "send $STREAM_HDR" "expect EXTERNAL" \
	    "send <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>" \
	    "expect <success" "send $STREAM_HDR" "expect <stream:features" \
	    "send $batch" "absent -t 60 stream:error"
	n() { grep -c "message from a@partner.test to bob@gw.test answered service-unavailable" xmppgwd.log; }
	wait_for 30 sh -c "[ \$(grep -c 'message from a@partner.test to bob@gw.test answered' xmppgwd.log) -ge 24 ]" ||
	    atf_fail "$(n) of 24 messages read"
	took=$(($(date +%s) - start))
	[ "$took" -ge 2 ] || atf_fail "24 messages (26 kB) read in $took s at 4096 bytes/s"
	[ "$(grep -c 'reading at most 4096 bytes/s (limits read-rate)' xmppgwd.log)" = 1 ] ||
	    atf_fail "log: $(oneline "$(grep read-rate xmppgwd.log)")"
	grep -q "from partner.test .*closed" xmppgwd.log &&
	    atf_fail "the stream was closed: $(oneline "$(grep closed xmppgwd.log)")"
	return 0
}
read_rate_limited_cleanup() { netns_destroy; }

atf_test_case tls_input_read_to_the_end cleanup
tls_input_read_to_the_end_head() {
	atf_set descr "input the tls process read ahead of TLS is not left behind: a stream header in the segment that ends the handshake is answered, and 400 kB of stanzas sent at once (more than a pass takes) are all read"
	atf_set require.user root
}
tls_input_read_to_the_end_body() {
	setup_raw "tls required
	sasl optional
	dialback yes" "limits { read-rate 0 }"
	tls="starttls --cork --cert $PWD/certs/partner.test.crt --key $PWD/certs/partner.test.key"
	# the stream header in the segment that ends the handshake; whether
	# TLS leaves it to the stream depends on timing: tried 8 times
	for i in 1 2 3 4 5 6 7 8; do
		rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
		    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
		    "expect <proceed" "$tls" "send $STREAM_HDR" \
		    "expect -t 5 EXTERNAL" > raw.out 2>&1 ||
		    atf_fail "try $i: $(oneline "$(cat raw.out)")"
	done
	pad=$(printf 'x%.0s' $(seq 1000))
	{
		echo "send $STREAM_HDR"
		echo "expect <starttls"
		echo "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
		echo "expect <proceed"
		echo "$tls"
		echo "send $STREAM_HDR"
		echo "expect EXTERNAL"
		echo "send <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>"
		echo "expect <success"
		echo "send $STREAM_HDR"
		echo "expect <stream:features"
		printf 'send '
		i=1
		while [ $i -le 400 ]; do
			printf "<message from='a@partner.test' to='bob@gw.test' id='m%d'><body>%s</body></message>" $i "$pad"
			i=$((i + 1))
		done
		echo
		# the peer sends nothing more: the socket wakes nobody again
		echo "absent -t 60 stream:error"
	} > peer.steps
	before=$(wc -l < xmppgwd.log)
	rawpeer_start peer --connect $GW 5269 -f "$PWD/peer.steps"
	n() { grep -c "message from a@partner.test to bob@gw.test answered" xmppgwd.log; }
	wait_for 30 sh -c "[ \$(grep -c 'message from a@partner.test to bob@gw.test answered' xmppgwd.log) -ge 400 ]" ||
	    atf_fail "$(n) of 400 messages read"
	tail -n +$((before + 1)) xmppgwd.log | grep "from partner.test .*closed" > closed.out &&
	    atf_fail "the stream was closed: $(oneline "$(cat closed.out)")"
	return 0
}
tls_input_read_to_the_end_cleanup() { netns_destroy; }

atf_test_case idle_timeout_closes cleanup
idle_timeout_closes_head() {
	atf_set descr "an authenticated inbound stream idle for the idle timeout gets <connection-timeout/>"
	atf_set require.user root
}
idle_timeout_closes_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes" "timeouts { idle 2 }"
	sasl_peer "expect -t 15 <connection-timeout.*idle" > raw.out 2>&1 ||
	    atf_fail "$(oneline "$(cat raw.out)")"
}
idle_timeout_closes_cleanup() { netns_destroy; }

atf_test_case keepalive_whitespace_sent cleanup
keepalive_whitespace_sent_head() {
	atf_set descr "keepalive yes: our outbound stream sends whitespace keepalives"
	atf_set require.user root
}
keepalive_whitespace_sent_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes
	keepalive yes" "timeouts { keepalive 1 }"
	fake_partner_listen "expect <iq[^>]*type='result'[^>]*>(</iq>)?" \
	    "expect -t 10 ^ +\$"
	sasl_peer "send <iq type='get' from='partner.test' to='gw.test' id='ping-3'><ping xmlns='urn:xmpp:ping'/></iq>" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	bg_wait fake || atf_fail "no keepalive: $(oneline "$(cat fake.out fake.err)")"
}
keepalive_whitespace_sent_cleanup() { netns_destroy; }

atf_test_case connection_limit_enforced cleanup
connection_limit_enforced_head() {
	atf_set descr "limits connections: one connection more than allowed is closed and logged"
	atf_set require.user root
}
connection_limit_enforced_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes" "prefork 1
limits { connections 1 }"
	rawpeer_start held --connect $GW 5269 "send $STREAM_HDR" \
	    "expect <stream:features" "expect-eof -t 30"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect-eof -t 10" \
	    > raw.out 2>&1 || atf_fail "second connection: $(oneline "$(cat raw.out)")"
	gw_log_has "connection limit \\(1\\) reached"
}
connection_limit_enforced_cleanup() { netns_destroy; }

atf_test_case multiplexed_pairs_and_certificate_shortcut cleanup
multiplexed_pairs_and_certificate_shortcut_head() {
	atf_set descr "several dialback pairs on one stream; a certificate proves only the domains it names (CVE-2021-32919)"
	atf_set require.user root
}
multiplexed_pairs_and_certificate_shortcut_body() {
	setup_raw 'additional domains { "chat.partner.test" }
	tls optional
	sasl optional
	dialback yes' 'partner "other.test" { tls optional sasl optional dialback yes }'
	# one certificate for partner.test and chat.partner.test
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout two.key -out two.csr -subj "/CN=partner.test" 2>/dev/null
	printf 'subjectAltName=DNS:partner.test,DNS:chat.partner.test\n' > two.ext
	openssl x509 -req -in two.csr -CA certs/ca.crt -CAkey certs/ca.key \
	    -CAcreateserial -days 2 -extfile two.ext -out two.crt 2>/dev/null ||
	    atf_fail "cannot make the certificate"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
	    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
	    "expect <proceed" "starttls --cert $PWD/two.crt --key $PWD/two.key" \
	    "send $STREAM_HDR" "expect <stream:features" \
	    "send <db:result from='partner.test' to='gw.test'>k1</db:result>" \
	    "expect from='gw.test' to='partner.test' type='valid'" \
	    "send <db:result from='chat.partner.test' to='gw.test'>k2</db:result>" \
	    "expect from='gw.test' to='chat.partner.test' type='valid'" \
	    "send <message from='a@partner.test' to='bob@gw.test'><body>1</body></message>" \
	    "send <message from='b@chat.partner.test' to='bob@gw.test'><body>2</body></message>" \
	    "send <db:result from='other.test' to='gw.test'>k3</db:result>" \
	    "expect -t 20 from='gw.test' to='other.test' type='error'" \
	    "send <message from='c@other.test' to='bob@gw.test'><body>3</body></message>" \
	    "expect <invalid-from" > raw.out 2>&1 ||
	    atf_fail "$(oneline "$(cat raw.out)")"
	gw_log_has "message from a@partner.test.* to bob@gw.test"
	gw_log_has "message from b@chat.partner.test.* to bob@gw.test"
	grep -q "message from c@other.test" xmppgwd.log &&
	    atf_fail "a stanza from the unproven domain reached policy"
	return 0
}
multiplexed_pairs_and_certificate_shortcut_cleanup() { netns_destroy; }

atf_test_case dialback_key_cannot_inject_xml cleanup
dialback_key_cannot_inject_xml_head() {
	atf_set descr "a dialback key carrying escaped markup is refused before it can be written into another stream"
	atf_set require.user root
}
dialback_key_cannot_inject_xml_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send <db:result from='partner.test' to='gw.test'>&lt;/db:verify>&lt;message from='ceo@gw.test' to='x@partner.test'/></db:result>" \
	    "expect <not-acceptable" "expect-eof" > raw.out 2>&1 ||
	    atf_fail "$(oneline "$(cat raw.out)")"
	grep -q "_xmpp-server._tcp.partner.test" dnsmasq.log &&
	    atf_fail "the request went on to a verification"
	return 0
}
dialback_key_cannot_inject_xml_cleanup() { netns_destroy; }

atf_test_case dialback_errors_per_pair cleanup
dialback_errors_per_pair_head() {
	atf_set descr "XEP-0220 errors, one pair each: item-not-found for a domain not ours, forbidden for a non-partner, policy-violation for dialback no and for tls required before STARTTLS; the stream stays and nothing is authorised"
	atf_set require.user root
}
dialback_errors_per_pair_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes" 'partner "nodb.test" { tls optional sasl optional dialback no }
partner "tlsreq.test" { tls required sasl optional dialback yes }'
	e="type='error'><error type='cancel'><"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send <db:result from='partner.test' to='elsewhere.test'>k1</db:result>" \
	    "expect <db:result from='elsewhere.test' to='partner.test' ${e}item-not-found" \
	    "send <db:result from='stranger.test' to='gw.test'>k2</db:result>" \
	    "expect <db:result from='gw.test' to='stranger.test' ${e}forbidden" \
	    "send <db:result from='nodb.test' to='gw.test'>k3</db:result>" \
	    "expect <db:result from='gw.test' to='nodb.test' ${e}policy-violation" \
	    "send <db:result from='tlsreq.test' to='gw.test'>k4</db:result>" \
	    "expect <db:result from='gw.test' to='tlsreq.test' ${e}policy-violation" \
	    "send <db:verify from='partner.test' to='elsewhere.test' id='i1'>k5</db:verify>" \
	    "expect <db:verify from='elsewhere.test' to='partner.test' ${e}item-not-found" \
	    "send <db:verify from='stranger.test' to='gw.test' id='i2'>k6</db:verify>" \
	    "expect <db:verify from='gw.test' to='stranger.test' ${e}forbidden" \
	    "send <message from='a@nodb.test' to='bob@gw.test'><body>x</body></message>" \
	    "expect <not-authorized" "expect-eof" > raw.out 2>&1 ||
	    atf_fail "$(oneline "$(cat raw.out)")"
	gw_log_has "dialback for nodb.test refused: partner nodb.test has dialback no"
	gw_log_has "dialback for tlsreq.test refused: partner tlsreq.test has tls required"
	grep -q "_xmpp-server._tcp" dnsmasq.log &&
	    atf_fail "a refused request went on to a verification"
	grep -q "a@nodb.test to bob" xmppgwd.log && atf_fail "a stanza reached policy"
	return 0
}
dialback_errors_per_pair_cleanup() { netns_destroy; }

atf_test_case dialback_key_bound_to_id_and_domains cleanup
dialback_key_bound_to_id_and_domains_head() {
	atf_set descr "as authoritative server, a key of ours verifies only for the stream id and the domain pair it was made for, and not after the secret is rotated by a reload"
	atf_set require.user root
}
dialback_key_bound_to_id_and_domains_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	# partner.test's server receives our outbound stream (opened to
	# answer the ping) and keeps the key we offer it
	rawpeer_start fake --listen $PA 5269 \
	    "expect <stream:stream" \
	    "send $PARTNER_HDR<stream:features/>" \
	    "expect <db:result from='gw.test' to='partner.test'>(?P<key>[0-9a-f]{64})</db:result>" \
	    "print key=\${key}" \
	    "send <db:result from='partner.test' to='gw.test' type='valid'/>" \
	    "expect <iq[^>]*type='result'"
	sasl_peer "send <iq type='get' from='partner.test' to='gw.test' id='ping-3'><ping xmlns='urn:xmpp:ping'/></iq>" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	bg_wait fake || atf_fail "no key: $(oneline "$(cat fake.out fake.err)")"
	key=$(sed -n 's/^key=//p' fake.out)
	[ -n "$key" ] || atf_fail "no key: $(oneline "$(cat fake.out)")"
	v="<db:verify from='partner.test'"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send $v to='gw.test' id='fakeid1235'>$key</db:verify>" \
	    "expect from='gw.test' to='partner.test' id='fakeid1235' type='invalid'" \
	    "send $v to='gw2.test' id='fakeid1234'>$key</db:verify>" \
	    "expect from='gw2.test' to='partner.test' id='fakeid1234' type='invalid'" \
	    "send $v to='gw.test' id='fakeid1234'>x$key</db:verify>" \
	    "expect from='gw.test' to='partner.test' id='fakeid1234' type='invalid'" \
	    "send $v to='gw.test' id='fakeid1234'>$key</db:verify>" \
	    "expect from='gw.test' to='partner.test' id='fakeid1234' type='valid'" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	# a new secret, loaded by a reload, invalidates the keys made before
	openssl rand -hex 32 > certs/dialback.secret
	atf_check -o match:"generation 2 loaded" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" reload
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send $v to='gw.test' id='fakeid1234'>$key</db:verify>" \
	    "expect from='gw.test' to='partner.test' id='fakeid1234' type='invalid'" \
	    > raw.out 2>&1 ||
	    atf_fail "old key after rotation: $(oneline "$(cat raw.out)")"
}
dialback_key_bound_to_id_and_domains_cleanup() { netns_destroy; }

atf_test_case dialback_verify_answer_must_match cleanup
dialback_verify_answer_must_match_head() {
	atf_set descr "as receiving server, an answer from the authoritative server counts only for the id and pair we asked about"
	atf_set require.user root
}
dialback_verify_answer_must_match_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	# partner.test's authoritative server says valid to every question
	# but the one we asked, which it calls invalid
	rawpeer_start fake --listen $PA 5269 \
	    "expect <stream:stream" \
	    "send $PARTNER_HDR<stream:features/>" \
	    "expect <db:verify from='gw.test' to='partner.test' id='(?P<id>[^']+)'>0123456789abcdef</db:verify>" \
	    "send <db:verify from='partner.test' to='gw.test' id='x\${id}' type='valid'/>" \
	    "send <db:verify from='partner.test' to='gw2.test' id='\${id}' type='valid'/>" \
	    "send <db:verify from='other.test' to='gw.test' id='\${id}' type='valid'/>" \
	    "send <db:verify from='partner.test' to='gw.test' id='\${id}' type='invalid'/>" \
	    "expect -t 20 </stream:stream>"
	rawpeer -v --connect $GW 5269 "send $STREAM_HDR" "expect <stream:features" \
	    "send <db:result from='partner.test' to='gw.test'>0123456789abcdef</db:result>" \
	    "expect -t 20 <db:result from='gw.test' to='partner.test' type='invalid'" \
	    "expect <not-authorized" > raw.out 2> raw.err ||
	    atf_fail "$(oneline "$(cat raw.out raw.err)")"
	grep -q "type='valid'" raw.err && atf_fail "an answer to another question validated the pair"
	[ "$(grep -c "answers no request of ours ignored" xmppgwd.log)" -eq 3 ] ||
	    atf_fail "expected 3 answers ignored: $(oneline "$(tail -n 8 xmppgwd.log)")"
}
dialback_verify_answer_must_match_cleanup() { netns_destroy; }

atf_test_case outbound_proceed_injection_discarded cleanup
outbound_proceed_injection_discarded_head() {
	atf_set descr "bytes a partner sends after <proceed/> in the same write are discarded: our outbound stream starts afresh under TLS and authenticates by dialback"
	atf_set require.user root
}
outbound_proceed_injection_discarded_body() {
	setup_raw "tls required
	sasl optional
	dialback yes"
	rawpeer_start fake --listen $PA 5269 \
	    "expect <stream:stream" \
	    "send $PARTNER_HDR<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>" \
	    "expect <starttls" \
	    "send <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><stream:features/><db:result from='partner.test' to='gw.test' type='valid'/>" \
	    "starttls --cert $PWD/certs/partner.test.crt --key $PWD/certs/partner.test.key" \
	    "expect ^<\\?xml[^>]*>\\s*<stream:stream[^>]*>" \
	    "send $PARTNER_HDR<stream:features/>" \
	    "expect ^\\s*<db:result from='gw.test' to='partner.test'>[0-9a-f]{64}</db:result>" \
	    "send <db:result from='partner.test' to='gw.test' type='valid'/>" \
	    "expect <iq[^>]*type='result'"
	sasl_peer "send <iq type='get' from='partner.test' to='gw.test' id='ping-4'><ping xmlns='urn:xmpp:ping'/></iq>" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	bg_wait fake || atf_fail "$(oneline "$(cat fake.out fake.err)")"
}
outbound_proceed_injection_discarded_cleanup() { netns_destroy; }

# selfsigned NAME: a self-signed certificate for NAME in ss.crt, ss.key
selfsigned() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout ss.key -out ss.crt -days 2 -subj "/CN=$1" \
	    -addext "subjectAltName=DNS:$1" 2>/dev/null ||
	    atf_fail "cannot make a self-signed certificate"
}

atf_test_case unproven_certificate_gets_no_sasl cleanup
unproven_certificate_gets_no_sasl_head() {
	atf_set descr "a self-signed certificate is never offered or used for SASL EXTERNAL: inbound the features lack it, outbound with dialback no we refuse the partner"
	atf_set require.user root
}
unproven_certificate_gets_no_sasl_body() {
	setup_raw "tls required
	sasl optional
	dialback no"
	selfsigned partner.test
	# inbound: nothing is left to authenticate the peer with
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
	    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
	    "expect <proceed" "starttls --cert $PWD/ss.crt --key $PWD/ss.key" \
	    "send $STREAM_HDR" "expect <stream:stream[^>]*>" \
	    "absent <mechanisms" "expect <not-authorized" "expect-eof" \
	    > raw.out 2>&1 || atf_fail "in: $(oneline "$(cat raw.out)")"
	gw_log_has "refusing partner.test: dialback no, and the certificate does not authenticate it"
	# outbound: the partner offers EXTERNAL with that certificate
	fake_partner_external ss "expect ^\\s*</stream:stream>" "expect-eof"
	sasl_peer "send <iq type='get' from='partner.test' to='gw.test' id='ping-5'><ping xmlns='urn:xmpp:ping'/></iq>" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	bg_wait fake || atf_fail "out: $(oneline "$(cat fake.out fake.err)")"
	gw_log_has "refusing partner.test: dialback no and certificate"
}
unproven_certificate_gets_no_sasl_cleanup() { netns_destroy; }

atf_test_case sasl_only_for_proven_certificates cleanup
sasl_only_for_proven_certificates_head() {
	atf_set descr "with dialback allowed, a self-signed certificate is offered dialback and not EXTERNAL; a partner that refuses our EXTERNAL is authenticated to by dialback instead"
	atf_set require.user root
}
sasl_only_for_proven_certificates_body() {
	setup_raw "tls required
	sasl optional
	dialback yes"
	selfsigned partner.test
	nomech="(?:(?!mechanisms).)*"
	rawpeer --connect $GW 5269 "send $STREAM_HDR" "expect <starttls" \
	    "send <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
	    "expect <proceed" "starttls --cert $PWD/ss.crt --key $PWD/ss.key" \
	    "send $STREAM_HDR" \
	    "expect <stream:features>$nomech<dialback$nomech</stream:features>" \
	    > raw.out 2>&1 || atf_fail "in: $(oneline "$(cat raw.out)")"
	# outbound: EXTERNAL is tried with our good certificate, refused,
	# and dialback follows on the same stream
	fake_partner_external certs/partner.test \
	    "expect <auth [^>]*mechanism='EXTERNAL'" \
	    "send <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>" \
	    "expect <db:result from='gw.test' to='partner.test'>[0-9a-f]{64}</db:result>" \
	    "send <db:result from='partner.test' to='gw.test' type='valid'/>" \
	    "expect <iq[^>]*type='result'" "expect id='ping-8'"
	sasl_peer "send <iq type='get' from='partner.test' to='gw.test' id='ping-8'><ping xmlns='urn:xmpp:ping'/></iq>" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	bg_wait fake || atf_fail "out: $(oneline "$(cat fake.out fake.err)")"
	gw_log_has "SASL EXTERNAL refused by the peer"
}
sasl_only_for_proven_certificates_cleanup() { netns_destroy; }

# fake_partner_external CERT STEPS...: partner.test's server for our
# outbound stream: STARTTLS required, TLS with CERT.crt and CERT.key,
# then EXTERNAL and dialback offered, then the STEPS
fake_partner_external() {
	_cert=$1
	shift
	rawpeer_start fake --listen $PA 5269 \
	    "expect <stream:stream" \
	    "send $PARTNER_HDR<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>" \
	    "expect <starttls" "send <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" \
	    "starttls --cert $PWD/$_cert.crt --key $PWD/$_cert.key" \
	    "expect <stream:stream[^>]*>" \
	    "send $PARTNER_HDR<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</mechanism></mechanisms><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>" \
	    "$@"
}

# tls_pids: the tls processes of the xmppgwd this test started
tls_pids() {
	for _p in $(pgrep -P "$(cat xmppgwd.pid)"); do
		tr '\0' ' ' < /proc/$_p/cmdline | grep -q "^xmppgwd: tls" &&
		    echo $_p
	done
}

# tls_mem FIELD: the sum of FIELD (VmRSS, VmHWM) of the tls processes, KiB
tls_mem() {
	_sum=0
	for _p in $(tls_pids); do
		_sum=$((_sum + $(sed -n "s/^$1:[^0-9]*\([0-9]*\) kB/\1/p" /proc/$_p/status)))
	done
	echo $_sum
}

# tls_rss: their resident memory together
tls_rss() { tls_mem VmRSS; }

# churn N: N connections dropped before or right after authentication,
# and every one of them gone from the gateway
churn() {
	netns_exec "$PEERS_PYTHON" "$(peers_lib)/churn.py" $GW 5269 "$1" \
	    "$PWD/certs/partner.test.crt" "$PWD/certs/partner.test.key" \
	    > churn.out 2>&1 || atf_fail "churn: $(oneline "$(cat churn.out)")"
	wait_for 30 sh -c "'$(XGWCTL)' -s '$PWD/ctl.sock' -j show streams | grep -q '\"streams\":\[\]'" ||
	    atf_fail "streams left: $(oneline "$(ctl show streams)")"
}

atf_test_case connection_churn_does_not_grow cleanup
connection_churn_does_not_grow_head() {
	atf_set descr "connections dropped before authentication (half a header, after the features, during a TLS-protected header) or right after SASL EXTERNAL leave no memory behind (Prosody CVE-2026-43506)"
	atf_set require.user root
	atf_set timeout 600
}
connection_churn_does_not_grow_body() {
	setup_raw "tls optional
	sasl optional
	dialback yes"
	churn_rounds tls_rss churn
	echo "growth of each round (KiB):$churn_growth"
	[ "$churn_min" -lt 64 ] || atf_fail "the tls processes grew in \
every round of 2000 connections, by (KiB)$churn_growth"
}
connection_churn_does_not_grow_cleanup() { netns_destroy; }

atf_init_test_cases() {
	atf_add_test_case sasl_external_both_ways
	atf_add_test_case check_partner_steps
	atf_add_test_case check_partner_failures
	atf_add_test_case check_partner_limits
	atf_add_test_case certificate_request_accepted_by_prosody
	atf_add_test_case serverauth_only_certificates_both_ways
	atf_add_test_case dialback_when_certificate_self_signed
	atf_add_test_case dialback_when_certificate_wrong_name
	atf_add_test_case dialback_over_tcp
	atf_add_test_case tls_required_refuses_plaintext_peer
	atf_add_test_case dialback_no_refuses_untrusted_certificate
	atf_add_test_case sasl_required_refuses_untrusted_certificate
	atf_add_test_case non_partner_refused
	atf_add_test_case starttls_injection_discarded
	atf_add_test_case restricted_xml_refused
	atf_add_test_case preauth_byte_budget
	atf_add_test_case oversized_stanza_refused
	atf_add_test_case preauth_memory_bounded
	atf_add_test_case idle_stream_memory_bounded
	atf_add_test_case sasl_abuse_refused
	atf_add_test_case invalid_from_refused
	atf_add_test_case stream_header_errors
	atf_add_test_case stanza_before_auth_refused
	atf_add_test_case unsolicited_dialback_results_refused
	atf_add_test_case invalid_dialback_key_refused
	atf_add_test_case restart_cannot_switch_hosts
	atf_add_test_case dialback_namespace_not_prefix
	atf_add_test_case ping_to_our_domain_answered
	atf_add_test_case unreachable_partner_bounces_queue
	atf_add_test_case matrix_row1_req_req_yes
	atf_add_test_case matrix_row8_req_opt_no
	atf_add_test_case matrix_row13_req_ns_yes
	atf_add_test_case matrix_row15_opt_ns_yes
	atf_add_test_case matrix_row10_opt_opt_no
	atf_add_test_case tls_renegotiation_refused
	atf_add_test_case establish_timeout_closes
	atf_add_test_case read_rate_limited
	atf_add_test_case tls_input_read_to_the_end
	atf_add_test_case idle_timeout_closes
	atf_add_test_case keepalive_whitespace_sent
	atf_add_test_case connection_limit_enforced
	atf_add_test_case multiplexed_pairs_and_certificate_shortcut
	atf_add_test_case dialback_key_cannot_inject_xml
	atf_add_test_case dialback_errors_per_pair
	atf_add_test_case dialback_key_bound_to_id_and_domains
	atf_add_test_case dialback_verify_answer_must_match
	atf_add_test_case outbound_proceed_injection_discarded
	atf_add_test_case unproven_certificate_gets_no_sasl
	atf_add_test_case sasl_only_for_proven_certificates
	atf_add_test_case connection_churn_does_not_grow
}
