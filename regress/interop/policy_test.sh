#! /usr/bin/atf-sh
# The partner-type rules, the local users' access list, the durable
# authorisations and the message counters, between a Prosody user
# (partner.test on 127.0.0.10) and SIPp playing the enterprise proxy
# (127.0.0.30), through xmppgwd (gw.test on 127.0.0.20), all in the
# test's own network namespace.

. "$(atf_get_srcdir)/../lib/common.sh"
. "$(atf_get_srcdir)/../lib/peers.sh"
. "$(atf_get_srcdir)/../lib/sipp.sh"

GW=127.0.0.20
PA=127.0.0.10
PROXY=127.0.0.30

# setup TYPE USERS UAS: the partner's type ("public unverified", ...),
# the users line of gw.test ("users all", ...), SIPp's scenario
setup() {
	ensure_user
	netns_create
	make_certs gw.test partner.test
	partner_up
	sipp_uas_start uas "$3" $PROXY 5060
	gw_conf_head $GW > xmppgwd.conf
	cat >> xmppgwd.conf <<CONF
domain "gw.test" {
	certificate "certs/gw.test.crt"
	key "certs/gw.test.key"
	$2
}
sip {
	proxy "$PROXY" port 5060 tcp
	listen on $GW port 5060 tcp
	trusted $PROXY
}
partner "partner.test" {
	type $1
	tls required
	sasl optional
	dialback yes
}
CONF
	gw_up
}

# gw_up: start xmppgwd on ./xmppgwd.conf and wait for the proxy link
gw_up() {
	xgwd_start "$PWD/xmppgwd.conf"
	wait_for 10 grep -q "sip: connected to the proxy" xmppgwd.log ||
	    atf_fail "no connection to the proxy: $(oneline "$(tail -n 5 xmppgwd.log)")"
}

# alice_to USER BODY: alice@partner.test messages USER@gw.test; what
# comes back within 10 s ("noerror" or "error TYPE CONDITION ...") is
# in client.out
alice_to() {
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to "$1@gw.test" --body "$2" --wait-error 10 \
	    > client.out 2> client.err
	return 0
}

# expect_refused CONDITION USER BODY
expect_refused() {
	alice_to "$2" "$3"
	grep -q "^error [a-z]* $1" client.out ||
	    atf_fail "'$3': expected $1, got: $(oneline "$(cat client.out client.err)")"
}

# expect_delivered USER BODY N: SIPp's N-th request carries BODY
expect_delivered() {
	alice_to "$1" "$2"
	grep -q "^noerror" client.out ||
	    atf_fail "'$2' refused: $(oneline "$(cat client.out client.err)")"
	sipp_wait_requests uas "$3" 10
	body=$(sipp_last_request uas | sipp_body)
	[ "$body" = "$2" ] || atf_fail "SIPp got '$body', not '$2'"
}

policy_restarted() {
	ctl status | grep -Eq "^policy +[0-9]+ +[0-9:]+ +$1\$"
}

atf_test_case public_unverified_needs_authorization cleanup
public_unverified_needs_authorization_head() {
	atf_set descr "public unverified: refused before authorisation, delivered after xmppgwctl authorize, refused after revoke; the authorisation survives kill -9 of policy and a full restart"
	atf_set require.user root
	atf_set timeout 200
}
public_unverified_needs_authorization_body() {
	setup "public unverified" "users all" uas_200

	expect_refused subscription-required bob "before"
	[ "$(sipp_requests uas)" -eq 0 ] || atf_fail "SIPp received a request"
	grep -q "not authorized by the recipient" xmppgwd.log ||
	    atf_fail "no log line for the refusal"

	# a SIP URI and any case name the same pair
	atf_check -o match:"bob@gw.test may receive messages from alice@partner.test" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" authorize sip:Bob@GW.test Alice@Partner.test
	# what an authorisation names is checked
	atf_check -s exit:1 -e match:"addresses must be UTF-8" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" authorize bob@gw.test "$(printf 'a\377@partner.test')"
	atf_check -s exit:1 -e match:"not a local domain" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" authorize bob@partner.test alice@partner.test
	atf_check -o match:"^bob@gw.test +alice@partner.test +[0-9TZ:-]+ +operator$" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" show authorizations bob@gw.test
	expect_delivered Bob "after authorize" 1
	sipp_last_request uas | sipp_header To | grep -q "^<sip:bob@gw.test>" ||
	    atf_fail "To: $(sipp_last_request uas | sipp_header To)"

	atf_check -o match:"revoked" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" revoke bob@gw.test alice@partner.test
	expect_refused subscription-required bob "after revoke"
	[ "$(sipp_requests uas)" -eq 1 ] || atf_fail "SIPp received a refused message"

	expect_counter received xmpp_to_sip 3
	expect_counter refused xmpp_to_sip 2
	expect_counter delivered xmpp_to_sip 1

	atf_check -o ignore "$(XGWCTL)" -s "$PWD/ctl.sock" \
	    authorize bob@gw.test alice@partner.test
	pid=$(ctl -j status | "$PEERS_PYTHON" -c '
import json, sys
print([p["pid"] for p in json.load(sys.stdin)["processes"]
       if p["role"] == "policy"][0])')
	kill -KILL "$pid"
	wait_for 15 policy_restarted 1 || atf_fail "policy was not restarted"
	expect_delivered bob "after kill -9 of policy" 2

	stop_pid xmppgwd
	cp xmppgwd.log xmppgwd.log.1
	gw_up
	atf_check -o match:"^bob@gw.test +alice@partner.test " \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" show authorizations
	expect_delivered bob "after a restart" 3
}
public_unverified_needs_authorization_cleanup() { netns_destroy; }

atf_test_case sip_message_authorizes_contact cleanup
sip_message_authorizes_contact_head() {
	atf_set descr "a local user's message to a contact of a public unverified partner is an authorisation: the contact's answer is delivered"
	atf_set require.user root
}
sip_message_authorizes_contact_body() {
	setup "public unverified" "users all" uas_200
	xmppclient_start alice recv --jid alice@partner.test --password pw \
	    --server $PA --count 1 --timeout 30
	sipp_uac uac uac_expect_2xx $PROXY $GW:5060 \
	    ruri=sip:alice@partner.test from=sip:dave@gw.test \
	    to=sip:alice@partner.test "body=hi alice" timeout=20 ||
	    atf_fail "SIPp did not get 2xx: $(oneline "$(tail -n 5 uac.out)")"
	bg_wait alice || atf_fail "alice got nothing: $(oneline "$(cat alice.out alice.err)")"
	atf_check -o match:"^dave@gw.test +alice@partner.test +[0-9TZ:-]+ +message$" \
	    "$(XGWCTL)" -s "$PWD/ctl.sock" show authorizations dave@gw.test
	grep -q "authorization dave@gw.test -> alice@partner.test added" \
	    xmppgwd.log || atf_fail "no log line for the authorisation"
	expect_delivered dave "hi dave" 1
	expect_counter delivered sip_to_xmpp 1
	expect_counter delivered xmpp_to_sip 1
}
sip_message_authorizes_contact_cleanup() { netns_destroy; }

atf_test_case federated_needs_no_authorization cleanup
federated_needs_no_authorization_head() {
	atf_set descr "a federated partner's users reach local users who have not added them"
	atf_set require.user root
}
federated_needs_no_authorization_body() {
	setup federated "users all" uas_200
	expect_delivered bob "no authorisation needed" 1
	atf_check -o inline:"" -e ignore sh -c \
	    "'$(XGWCTL)' -s '$PWD/ctl.sock' show authorizations | tail -n +2"
}
federated_needs_no_authorization_cleanup() { netns_destroy; }

atf_test_case domain_users_restrict_xmpp cleanup
domain_users_restrict_xmpp_head() {
	atf_set descr "users { \"b*\" }: bob may use XMPP, dave may not: messages to dave get service-unavailable, SIP from dave gets 403, both counted as refused"
	atf_set require.user root
}
domain_users_restrict_xmpp_body() {
	setup federated 'users { "B*" }' uas_200
	expect_delivered bob "to bob" 1
	expect_refused service-unavailable dave "to dave"
	[ "$(sipp_requests uas)" -eq 1 ] || atf_fail "SIPp received the message to dave"
	sipp_uac uac uac_expect_403 $PROXY $GW:5060 \
	    ruri=sip:alice@partner.test from=sip:dave@gw.test \
	    to=sip:alice@partner.test "body=from dave" ||
	    atf_fail "no 403: $(oneline "$(tail -n 5 uac.out)")"
	expect_counter refused xmpp_to_sip 1
	expect_counter refused sip_to_xmpp 1
	expect_counter delivered xmpp_to_sip 1
}
domain_users_restrict_xmpp_cleanup() { netns_destroy; }

atf_test_case counters_count_failures cleanup
counters_count_failures_head() {
	atf_set descr "status counts failed messages by cause, and the errors a partner returns later"
	atf_set require.user root
}
counters_count_failures_body() {
	setup federated "users all" uas_404
	expect_refused item-not-found bob "to nobody"
	v=$(cause xmpp_to_sip item-not-found)
	[ "$v" = 1 ] || atf_fail "item-not-found counted $v times"
	expect_counter failed xmpp_to_sip 1
	# Prosody bounces a message to a user it does not have
	sipp_uac uac uac_expect_2xx $PROXY $GW:5060 \
	    ruri=sip:nobody@partner.test from=sip:dave@gw.test \
	    to=sip:nobody@partner.test "body=anyone there" ||
	    atf_fail "SIPp did not get 2xx: $(oneline "$(tail -n 5 uac.out)")"
	wait_for 10 sh -c "'$(XGWCTL)' -s '$PWD/ctl.sock' -j status | grep -q '\"partner_errors\":1,'" ||
	    atf_fail "partner error not counted: $(oneline "$(ctl status)")"
	grep -q "error <service-unavailable/> from nobody@partner.test" \
	    xmppgwd.log || atf_fail "the partner's error is not logged"
	expect_counter delivered sip_to_xmpp 1
}
counters_count_failures_cleanup() { netns_destroy; }

atf_init_test_cases() {
	atf_add_test_case public_unverified_needs_authorization
	atf_add_test_case sip_message_authorizes_contact
	atf_add_test_case federated_needs_no_authorization
	atf_add_test_case domain_users_restrict_xmpp
	atf_add_test_case counters_count_failures
}
