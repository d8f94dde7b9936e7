#! /usr/bin/atf-sh
# The SIP relay between a Prosody user and the enterprise SIP proxy,
# played by SIPp.  Each case runs dnsmasq, Prosody (partner.test on
# 127.0.0.10), xmppgwd (gw.test on 127.0.0.20) and SIPp (the proxy, on
# 127.0.0.30) in its own network namespace.

. "$(atf_get_srcdir)/../lib/common.sh"
. "$(atf_get_srcdir)/../lib/peers.sh"
. "$(atf_get_srcdir)/../lib/sipp.sh"

GW=127.0.0.20
PA=127.0.0.10
PROXY=127.0.0.30
SLOW=127.0.0.40		# a partner's server that accepts and says nothing

# setup [UAS-SCENARIO [SIPP-UAS-OPTIONS...]]: everything, with SIPp
# answering MESSAGEs first
setup() {
	ensure_user
	netns_create
	make_certs gw.test partner.test
	partner_up
	_uas=${1:-}
	[ $# -gt 0 ] && shift
	[ -n "$_uas" ] && sipp_uas_start uas "$_uas" $PROXY 5060 "$@"
	gw_conf_head $GW > xmppgwd.conf
	cat >> xmppgwd.conf <<CONF
domain "gw.test" {
	certificate "certs/gw.test.crt"
	key "certs/gw.test.key"
}
sip {
	proxy "$PROXY" port 5060 tcp
	listen on $GW port 5060 tcp
	trusted $PROXY
}
partner "partner.test" {
	type federated
	tls required
	sasl optional
	dialback yes
}
partner "other.test" {
	tls required
	sasl required
	dialback no
}
partner "slow.test" {
	proxy "$SLOW" port 5269
}
CONF
	xgwd_start "$PWD/xmppgwd.conf"
	if [ -n "$_uas" ]; then
		wait_for 10 grep -q "sip: connected to the proxy" xmppgwd.log ||
		    atf_fail "no connection to the proxy: $(oneline "$(tail -n 5 xmppgwd.log)")"
	fi
}

# alice_sends BODY WAIT [THREAD]: alice@partner.test messages
# bob@gw.test; the error she gets back (or "noerror") is in client.out
alice_sends() {
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to bob@gw.test --body "$1" --wait-error "$2" \
	    ${3:+--thread "$3"} > client.out 2> client.err
	return 0
}

expect_error() {
	alice_sends "hello" "$2"
	grep -q "^error [a-z]* $1" client.out ||
	    atf_fail "expected $1, got: $(oneline "$(cat client.out client.err)")"
}

atf_test_case xmpp_message_becomes_sip_message cleanup
xmpp_message_becomes_sip_message_head() {
	atf_set descr "a Prosody user's message reaches SIPp as a MESSAGE with the mapped From, To, Content-Type and body; 200 sends no error back"
	atf_set require.user root
}
xmpp_message_becomes_sip_message_body() {
	setup uas_200
	alice_sends "hello over SIP" 5
	grep -q "^noerror" client.out ||
	    atf_fail "an error came back: $(oneline "$(cat client.out client.err)")"
	sipp_wait_requests uas 1 10 || atf_fail "SIPp received nothing"
	sipp_last_request uas > req.txt
	atf_check -o inline:"MESSAGE sip:bob@gw.test SIP/2.0\n" sh -c "head -n 1 req.txt | tr -d '\r'"
	grep -q "^From: <sip:alice@partner.test;gr=[^>]*>;tag=" req.txt ||
	    atf_fail "From: $(oneline "$(grep -i '^From' req.txt)")"
	grep -q "^To: <sip:bob@gw.test>" req.txt || atf_fail "To: $(oneline "$(grep -i '^To' req.txt)")"
	grep -q "^Content-Type: text/plain" req.txt || atf_fail "no text/plain"
	body=$(sipp_last_request uas | sipp_body)
	[ "$body" = "hello over SIP" ] || atf_fail "body: '$body'"
	wait_for 5 sh -c "'$(XGWCTL)' -s '$PWD/ctl.sock' -j status | grep -q '\"delivered\":{\"xmpp_to_sip\":1,'" ||
	    atf_fail "delivery not counted: $(oneline "$(ctl status)")"
}
xmpp_message_becomes_sip_message_cleanup() { netns_destroy; }

atf_test_case bodiless_message_refused cleanup
bodiless_message_refused_head() { atf_set descr "a chat state notification without a body is answered service-unavailable and counted as refused, and no empty MESSAGE reaches SIPp"; atf_set require.user root; }
bodiless_message_refused_body() {
	setup uas_200
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to bob@gw.test --chatstate composing --wait-error 10 \
	    > client.out 2> client.err
	grep -q "^error cancel service-unavailable a message without a body" client.out ||
	    atf_fail "got: $(oneline "$(cat client.out client.err)")"
	expect_counter refused xmpp_to_sip 1
	# a message after it is relayed, and is the first SIPp sees
	alice_sends "after" 3
	grep -q "^noerror" client.out || atf_fail "$(oneline "$(cat client.out)")"
	sipp_wait_requests uas 1 10 || atf_fail "SIPp received nothing"
	[ "$(sipp_requests uas)" = 1 ] || atf_fail "SIPp got $(sipp_requests uas) requests"
	[ "$(sipp_last_request uas | sipp_body)" = after ] ||
	    atf_fail "SIPp got: $(oneline "$(sipp_last_request uas)")"
}
bodiless_message_refused_cleanup() { netns_destroy; }

atf_test_case subject_cannot_inject_headers cleanup
subject_cannot_inject_headers_head() { atf_set descr "a subject holding CR and LF becomes one Subject header: no header can be injected into the SIP MESSAGE"; atf_set require.user root; }
subject_cannot_inject_headers_body() {
	setup uas_200
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to bob@gw.test --body hi --wait-error 3 \
	    --subject "$(printf 'one\r\nInjected: yes\r\n\r\nbody')" \
	    > client.out 2> client.err
	grep -q "^noerror" client.out || atf_fail "$(oneline "$(cat client.out client.err)")"
	sipp_wait_requests uas 1 10 || atf_fail "SIPp received nothing"
	sipp_last_request uas > req.txt
	grep -qi "^Injected" req.txt && atf_fail "header injected: $(oneline "$(cat req.txt)")"
	atf_check -o inline:"Subject: oneInjected: yesbody\n" sh -c "grep '^Subject:' req.txt | tr -d '\r'"
	[ "$(sipp_body < req.txt)" = hi ] || atf_fail "body: $(oneline "$(cat req.txt)")"
}
subject_cannot_inject_headers_cleanup() { netns_destroy; }

atf_test_case language_carried_and_bodies_made_valid cleanup
language_carried_and_bodies_made_valid_head() { atf_set descr "xml:lang becomes Content-Language and back; a value that is not one language tag (a list, CR LF) is not carried and the message still is; control characters, a noncharacter and bytes that are not UTF-8 in a SIP body are removed, markup is escaped, and the partner's stream stays up"; atf_set require.user root; }
language_carried_and_bodies_made_valid_body() {
	setup uas_200
	for l in de "en, fr" "$(printf 'en\r\nX-Injected: 1')"; do
		xmppclient send --jid alice@partner.test --password pw \
		    --server $PA --to bob@gw.test --body "with a language" --lang "$l" \
		    --wait-error 3 > client.out 2> client.err
		grep -q "^noerror" client.out ||
		    atf_fail "$l: $(oneline "$(cat client.out client.err)")"
	done
	sipp_wait_requests uas 3 10 || atf_fail "SIPp did not get 3 requests"
	[ "$(sipp_request uas 1 | sipp_header Content-Language)" = de ] ||
	    atf_fail "request 1: $(oneline "$(sipp_request uas 1)")"
	for i in 2 3; do
		sipp_request uas $i > req.txt
		grep -qi "^Content-Language\|^X-Injected" req.txt &&
		    atf_fail "request $i: $(oneline "$(cat req.txt)")"
	done

	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 3 --timeout 30
	r() {	# r CALL-ID CONTENT-LANGUAGE BODY-AS-PRINTF-%b
		printf '%b' "$3" > body
		printf "MESSAGE sip:carol@partner.test SIP/2.0\r\nVia: SIP/2.0/TCP $PROXY:5060;branch=z9hG4bK%s\r\nFrom: <sip:dave@gw.test>;tag=1\r\nTo: <sip:carol@partner.test>\r\nCall-ID: %s\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Language: %s\r\nContent-Length: %d\r\n\r\n" \
		    "$1" "$1" "$2" "$(wc -c < body)" | cat - body | od -An -v -tx1 | tr -d ' \n'
	}
	ok='^.*?SIP/2.0 200 OK\r\n(?:[^\r]+\r\n)*?Call-ID:'
	rawpeer --bind $PROXY --connect $GW 5060 \
	    "send-hex $(r l1 de-CH 'first')" "expect -t 20 $ok l1\r\n" \
	    "send-hex $(r l2 'en, fr' 'a\001b\033c\357\277\276d\377]]>&<e')" \
	    "expect -t 20 $ok l2\r\n" \
	    "send-hex $(r l3 fr 'last')" "expect -t 20 $ok l3\r\n" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	bg_wait carol || atf_fail "carol: $(oneline "$(cat carol.out carol.err)")"
	# Prosody gives a stanza without xml:lang its own default, "en"
	printf 'message dave@gw.test first\nlang de-CH\nmessage dave@gw.test abcd]]>&<e\nlang en\nmessage dave@gw.test last\nlang fr\n' > want
	grep -v '^thread ' carol.out | diff -u want - ||
	    atf_fail "carol got: $(oneline "$(cat carol.out)")"
	expect_counter delivered sip_to_xmpp 3
}
language_carried_and_bodies_made_valid_cleanup() { netns_destroy; }

atf_test_case sip_404_becomes_item_not_found cleanup
sip_404_becomes_item_not_found_head() { atf_set descr "SIP 404 comes back to the XMPP sender as item-not-found"; atf_set require.user root; }
sip_404_becomes_item_not_found_body() { setup uas_404; expect_error item-not-found 15; }
sip_404_becomes_item_not_found_cleanup() { netns_destroy; }

atf_test_case sip_480_becomes_recipient_unavailable cleanup
sip_480_becomes_recipient_unavailable_head() { atf_set descr "SIP 480 comes back as recipient-unavailable"; atf_set require.user root; }
sip_480_becomes_recipient_unavailable_body() { setup uas_480; expect_error recipient-unavailable 15; }
sip_480_becomes_recipient_unavailable_cleanup() { netns_destroy; }

atf_test_case sip_503_becomes_service_unavailable cleanup
sip_503_becomes_service_unavailable_head() { atf_set descr "SIP 503 comes back as service-unavailable with the SIP reason"; atf_set require.user root; }
sip_503_becomes_service_unavailable_body() {
	setup uas_503
	expect_error service-unavailable 15
	grep -q "SIP 503" client.out || atf_fail "no SIP reason in the text: $(oneline "$(cat client.out)")"
}
sip_503_becomes_service_unavailable_cleanup() { netns_destroy; }

atf_test_case sip_no_answer_becomes_timeout cleanup
sip_no_answer_becomes_timeout_head() { atf_set descr "no SIP final response: timer F (32 s) gives remote-server-timeout"; atf_set require.user root; atf_set timeout 120; }
sip_no_answer_becomes_timeout_body() { setup uas_noanswer; expect_error remote-server-timeout 60; }
sip_no_answer_becomes_timeout_cleanup() { netns_destroy; }

atf_test_case proxy_down_fails_fast cleanup
proxy_down_fails_fast_head() { atf_set descr "while the proxy is unreachable, messages fail at once with service-unavailable"; atf_set require.user root; }
proxy_down_fails_fast_body() {
	setup
	expect_error service-unavailable 10
	grep -q "SIP proxy unreachable" client.out ||
	    atf_fail "text: $(oneline "$(cat client.out)")"
}
proxy_down_fails_fast_cleanup() { netns_destroy; }

atf_test_case sip_message_reaches_prosody_user cleanup
sip_message_reaches_prosody_user_head() {
	atf_set descr "SIPp's MESSAGE from a local user reaches a Prosody user with the right from and body; SIPp gets 200"
	atf_set require.user root
}
sip_message_reaches_prosody_user_body() {
	setup uas_200
	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 1 --timeout 30
	sipp_uac uac uac_expect_2xx $PROXY $GW:5060 \
	    ruri=sip:carol@partner.test from=sip:dave@gw.test \
	    to=sip:carol@partner.test "body=hello from SIP" timeout=20 ||
	    atf_fail "SIPp did not get 2xx: $(oneline "$(tail -n 5 uac.out)")"
	bg_wait carol || atf_fail "carol got nothing: $(oneline "$(cat carol.out carol.err)")"
	grep -q "^message dave@gw.test hello from SIP" carol.out ||
	    atf_fail "carol got: $(oneline "$(cat carol.out)")"
}
sip_message_reaches_prosody_user_cleanup() { netns_destroy; }

atf_test_case burst_both_ways cleanup
burst_both_ways_head() {
	atf_set descr "300 messages each way in a burst (the processes take them in batches): every one reaches the far end once, in order, and the counters agree"
	atf_set require.user root
	atf_set timeout 180
}
burst_both_ways_body() {
	setup uas_200
	# XMPP -> SIP: one stream, sent back to back
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to bob@gw.test --body "x2s" --count 300 --wait-error 2 \
	    > client.out 2> client.err
	grep -q "^noerror" client.out ||
	    atf_fail "an error came back: $(oneline "$(cat client.out client.err)")"
	sipp_wait_requests uas 300 30
	[ "$(sipp_requests uas)" -eq 300 ] ||
	    atf_fail "SIPp received $(sipp_requests uas) MESSAGEs"
	i=1
	while [ $i -le 300 ]; do
		body=$(sipp_request uas $i | sipp_body)
		[ "$body" = "x2s $i" ] || atf_fail "MESSAGE $i carries '$body'"
		i=$((i + 1))
	done
	expect_counter delivered xmpp_to_sip 300
	# SIP -> XMPP: 300 MESSAGEs at 300 a second, each answered 200
	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 300 --timeout 60
	sipp_uac uac uac_expect_2xx $PROXY $GW:5060 calls=300 rate=300 \
	    ruri=sip:carol@partner.test from=sip:dave@gw.test \
	    to=sip:carol@partner.test "body=s2x" timeout=60 ||
	    atf_fail "SIPp: $(oneline "$(tail -n 5 uac.out)")"
	[ "$(sipp_responses uac)" -eq 300 ] ||
	    atf_fail "SIPp got $(sipp_responses uac) responses, not 300"
	bg_wait carol || atf_fail "carol: $(oneline "$(cat carol.err)")"
	[ "$(grep -c "^message dave@gw.test s2x" carol.out)" -eq 300 ] ||
	    atf_fail "carol got $(grep -c '^message' carol.out) messages"
	expect_counter delivered sip_to_xmpp 300
	expect_counter failed sip_to_xmpp 0
}
burst_both_ways_cleanup() { netns_destroy; }

atf_test_case thread_is_call_id cleanup
thread_is_call_id_head() {
	atf_set descr "RFC 7572: an XMPP <thread/> becomes the Call-ID (a token as it is, another thread a stable t-... id), CSeq grows, and a SIP Call-ID reaches the Prosody user as <thread/>"
	atf_set require.user root
}
thread_is_call_id_body() {
	setup uas_200
	callid() { sipp_request uas "$1" | sipp_header Call-ID; }
	cseq() { sipp_request uas "$1" | sipp_header CSeq | cut -d' ' -f1; }
	alice_sends "one" 3 "conv-42@client"
	alice_sends "two" 3 "a thread with spaces"
	alice_sends "three" 3 "a thread with spaces"
	sipp_wait_requests uas 3 10
	[ "$(callid 1)" = "conv-42@client" ] || atf_fail "Call-ID 1: $(callid 1)"
	case "$(callid 2)" in
	t-????????????????????????????????) ;;
	*) atf_fail "Call-ID 2: $(callid 2)" ;;
	esac
	[ "$(callid 2)" = "$(callid 3)" ] ||
	    atf_fail "one thread, two Call-IDs: $(callid 2) $(callid 3)"
	[ "$(cseq 1)" -lt "$(cseq 2)" ] && [ "$(cseq 2)" -lt "$(cseq 3)" ] ||
	    atf_fail "CSeq $(cseq 1) $(cseq 2) $(cseq 3)"

	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 1 --timeout 30
	sipp_uac uac uac_expect_2xx $PROXY $GW:5060 \
	    ruri=sip:carol@partner.test from=sip:dave@gw.test \
	    to=sip:carol@partner.test "body=threaded" timeout=20 ||
	    atf_fail "SIPp did not get 2xx: $(oneline "$(tail -n 5 uac.out)")"
	bg_wait carol || atf_fail "carol got nothing: $(oneline "$(cat carol.out carol.err)")"
	id=$(sipp_last_response uac | sipp_header Call-ID)
	grep -qxF "thread $id" carol.out ||
	    atf_fail "no thread $id: $(oneline "$(cat carol.out)")"
}
thread_is_call_id_cleanup() { netns_destroy; }

atf_test_case sip_to_unknown_domain_404 cleanup
sip_to_unknown_domain_404_head() { atf_set descr "a MESSAGE for a domain that is no partner gets 404, counted as received and refused"; atf_set require.user root; }
sip_to_unknown_domain_404_body() {
	setup uas_200
	sipp_uac uac uac_expect_404 $PROXY $GW:5060 \
	    ruri=sip:x@unknown.test from=sip:dave@gw.test to=sip:x@unknown.test ||
	    atf_fail "no 404: $(oneline "$(tail -n 5 uac.out)")"
	expect_counter received sip_to_xmpp 1
	expect_counter refused sip_to_xmpp 1
}
sip_to_unknown_domain_404_cleanup() { netns_destroy; }

atf_test_case sip_to_unreachable_partner_fails cleanup
sip_to_unreachable_partner_fails_head() { atf_set descr "a MESSAGE to a partner whose stream cannot come up gets the mapped failure (404)"; atf_set require.user root; }
sip_to_unreachable_partner_fails_body() {
	setup uas_200
	sipp_uac uac uac_expect_404 $PROXY $GW:5060 \
	    ruri=sip:x@other.test from=sip:dave@gw.test to=sip:x@other.test \
	    timeout=30 || atf_fail "no 404: $(oneline "$(tail -n 5 uac.out)")"
}
sip_to_unreachable_partner_fails_cleanup() { netns_destroy; }

atf_test_case sip_from_untrusted_403 cleanup
sip_from_untrusted_403_head() { atf_set descr "SIP from an address that is not trusted gets 403 (counted as refused), a SUBSCRIBE too, nothing reaches XMPP, and the connection is closed after 10 s"; atf_set require.user root; atf_set timeout 120; }
sip_from_untrusted_403_body() {
	setup uas_200
	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 1 --timeout 5
	sipp_uac uac uac_expect_403 127.0.0.31 $GW:5060 \
	    ruri=sip:carol@partner.test from=sip:dave@gw.test \
	    to=sip:carol@partner.test "body=spoofed" ||
	    atf_fail "no 403: $(oneline "$(tail -n 5 uac.out)")"
	bg_wait carol && atf_fail "carol received: $(oneline "$(cat carol.out)")"
	grep -q "not trusted" xmppgwd.log || atf_fail "no log line"
	expect_counter received sip_to_xmpp 1
	expect_counter refused sip_to_xmpp 1
	expect_counter delivered sip_to_xmpp 0
	# SUBSCRIBE is refused the same way (it is 501 from the proxy)
	req="SUBSCRIBE sip:carol@partner.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKs\r\nFrom: <sip:dave@gw.test>;tag=1\r\nTo: <sip:carol@partner.test>\r\nCall-ID: s\r\nCSeq: 1 SUBSCRIBE\r\nEvent: presence\r\nContent-Length: 0\r\n\r\n"
	hex=$(printf "$req" | od -An -tx1 | tr -d ' \n')
	rawpeer --connect $GW 5060 "send-hex $hex" "expect ^SIP/2.0 403" \
	    > raw.out 2>&1 || atf_fail "SUBSCRIBE: $(oneline "$(cat raw.out)")"
	# and it may not keep a connection open
	req="OPTIONS sip:gw.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKo\r\nFrom: <sip:x@gw.test>;tag=1\r\nTo: <sip:gw.test>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	hex=$(printf "$req" | od -An -tx1 | tr -d ' \n')
	rawpeer --connect $GW 5060 "send-hex $hex" "expect ^SIP/2.0 403" \
	    "expect-eof -t 20" > raw.out 2>&1 ||
	    atf_fail "untrusted connection: $(oneline "$(cat raw.out)")"
	return 0
}
sip_from_untrusted_403_cleanup() { netns_destroy; }

atf_test_case sip_duplicate_from_400 cleanup
sip_duplicate_from_400_head() { atf_set descr "a SIP request with two From headers (compact and long) gets 400, counted as failed (bad-request), and the connection ends; the daemon stays"; atf_set require.user root; }
sip_duplicate_from_400_body() {
	setup uas_200
	req="MESSAGE sip:carol@partner.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKa\r\nFrom: <sip:dave@gw.test>;tag=1\r\nf: <sip:ceo@gw.test>;tag=2\r\nTo: <sip:carol@partner.test>\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
	hex=$(printf "$req" | od -An -tx1 | tr -d ' \n')
	rawpeer --connect $GW 5060 "send-hex $hex" "expect ^SIP/2.0 400" \
	    "expect-eof" > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	atf_check -o match:"^sip +[0-9]+ +[0-9:]+ +0$" "$(XGWCTL)" -s "$PWD/ctl.sock" status
	expect_counter failed sip_to_xmpp 1
	[ "$(cause sip_to_xmpp bad-request)" = 1 ] ||
	    atf_fail "no bad-request cause: $(oneline "$(ctl status)")"
}
sip_duplicate_from_400_cleanup() { netns_destroy; }

atf_test_case sip_nul_in_body_400 cleanup
sip_nul_in_body_400_head() { atf_set descr "a MESSAGE whose body holds a NUL gets 400 and nothing reaches XMPP, rather than a body cut short at the NUL"; atf_set require.user root; }
sip_nul_in_body_400_body() {
	setup uas_200
	req="MESSAGE sip:carol@partner.test SIP/2.0\r\nVia: SIP/2.0/TCP $PROXY;branch=z9hG4bKn\r\nFrom: <sip:dave@gw.test>;tag=1\r\nTo: <sip:carol@partner.test>\r\nCall-ID: n\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nh"
	hex=$(printf "$req" | od -An -tx1 | tr -d ' \n')006c6c6f
	rawpeer --bind $PROXY --connect $GW 5060 "send-hex $hex" \
	    "expect ^SIP/2.0 400 NUL in Body\r\n" > raw.out 2>&1 ||
	    atf_fail "$(oneline "$(cat raw.out)")"
	expect_counter failed sip_to_xmpp 1
	expect_counter delivered sip_to_xmpp 0
	[ "$(cause sip_to_xmpp bad-request)" = 1 ] ||
	    atf_fail "no bad-request cause: $(oneline "$(ctl status)")"
}
sip_nul_in_body_400_cleanup() { netns_destroy; }

atf_test_case sip_extensions_and_encodings cleanup
sip_extensions_and_encodings_head() { atf_set descr "RFC 3261 UAS checks: OPTIONS lists Allow and Accept; Require gets 420 naming the tags; a Content-Encoding, a charset other than UTF-8, SDP or no Content-Type gets 415 saying what is accepted; INVITE and SUBSCRIBE get 501; a quoted utf-8 charset is relayed"; atf_set require.user root; }
sip_extensions_and_encodings_body() {
	setup uas_200
	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 1 --timeout 30
	r() {	# r METHOD CALL-ID EXTRA-HEADERS BODY
		printf "%s sip:carol@partner.test SIP/2.0\r\nVia: SIP/2.0/TCP $PROXY:5060;branch=z9hG4bK%s\r\nFrom: <sip:dave@gw.test>;tag=1\r\nTo: <sip:carol@partner.test>\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n%bContent-Length: %d\r\n\r\n%s" \
		    "$1" "$2" "$2" "$1" "$3" ${#4} "$4" | od -An -tx1 | tr -d ' \n'
	}
	h='(?:[^\r]+\r\n)*?'
	rawpeer --bind $PROXY --connect $GW 5060 \
	    "send-hex $(r OPTIONS o1 '' '')" \
	    "expect ^SIP/2.0 200 OK\r\n${h}Allow: MESSAGE, OPTIONS\r\nAccept: text/plain;charset=UTF-8\r\n" \
	    "send-hex $(r MESSAGE m1 'Require: 100rel\r\nRequire: foo\r\nContent-Type: text/plain\r\n' x)" \
	    "expect ^.*?SIP/2.0 420 Bad Extension\r\n${h}Call-ID: m1\r\n${h}Unsupported: 100rel, foo\r\n" \
	    "send-hex $(r MESSAGE m2 'Content-Type: text/plain\r\nContent-Encoding: gzip\r\n' x)" \
	    "expect ^.*?SIP/2.0 415 Unsupported Media Type\r\n${h}Call-ID: m2\r\n${h}Accept-Encoding: identity\r\n" \
	    "send-hex $(r MESSAGE m3 'Content-Type: text/plain; charset=ISO-8859-1\r\n' x)" \
	    "expect ^.*?SIP/2.0 415 Unsupported Media Type\r\n${h}Call-ID: m3\r\n${h}Accept: text/plain;charset=UTF-8\r\n" \
	    "send-hex $(r MESSAGE m5 'Content-Type: application/sdp\r\n' 'v=0')" \
	    "expect ^.*?SIP/2.0 415 Unsupported Media Type\r\n${h}Call-ID: m5\r\n" \
	    "send-hex $(r MESSAGE m6 '' x)" \
	    "expect ^.*?SIP/2.0 415 Unsupported Media Type\r\n${h}Call-ID: m6\r\n" \
	    "send-hex $(r INVITE i1 'Content-Type: application/sdp\r\n' 'v=0')" \
	    "expect ^.*?SIP/2.0 501 Not Implemented\r\n${h}Call-ID: i1\r\n" \
	    "send-hex $(r SUBSCRIBE s1 'Event: presence\r\n' '')" \
	    "expect ^.*?SIP/2.0 501 Not Implemented\r\n${h}Call-ID: s1\r\n" \
	    "send-hex $(r MESSAGE m4 'Content-Type: text/plain; charset="utf-8"\r\n' 'in UTF-8')" \
	    "expect -t 20 ^.*?SIP/2.0 200 OK\r\n${h}Call-ID: m4\r\n" \
	    > raw.out 2>&1 || atf_fail "$(oneline "$(cat raw.out)")"
	bg_wait carol || atf_fail "carol: $(oneline "$(cat carol.out carol.err)")"
	grep -q "^message dave@gw.test in UTF-8" carol.out ||
	    atf_fail "carol got: $(oneline "$(cat carol.out)")"
	expect_counter received sip_to_xmpp 6
	expect_counter failed sip_to_xmpp 5
	expect_counter delivered sip_to_xmpp 1
}
sip_extensions_and_encodings_cleanup() { netns_destroy; }

atf_test_case outbound_queue_capped cleanup
outbound_queue_capped_head() { atf_set descr "while a partner's stream is being established, at most 1000 stanzas wait for it: beyond that the oldest fail at once (resource-constraint, SIP 500) instead of piling up (Openfire OF-1324)"; atf_set require.user root; atf_set timeout 120; }
outbound_queue_capped_body() {
	setup uas_200
	rawpeer_start slow --listen $SLOW 5269 --accept-timeout 60 "expect-eof -t 90"
	sipp_uac_start uac uac_expect_500 $PROXY $GW:5060 \
	    ruri=sip:x@slow.test from=sip:dave@gw.test to=sip:x@slow.test \
	    calls=1010 rate=1000 timeout=60 limit=80
	wait_for 30 sh -c "[ \$(grep -c '^SIP/2.0 500' uac.msg) -ge 10 ]" ||
	    atf_fail "no 500s: $(grep -c '^SIP/2.0 ' uac.msg) responses"
	expect_counter in_flight sip_to_xmpp 1000
	[ "$(grep -c '^SIP/2.0 ' uac.msg)" = 10 ] ||
	    atf_fail "$(grep -c '^SIP/2.0 ' uac.msg) responses, not 10"
	[ "$(cause sip_to_xmpp resource-constraint)" = 10 ] ||
	    atf_fail "causes: $(oneline "$(ctl status)")"
	# the oldest go: the calls numbered 1 to 10
	grep -A8 '^SIP/2.0 500' uac.msg | sed -n 's/^Call-ID: \([0-9]*\)-.*/\1/p' |
	    tr -d '\r' | sort -n | tr '\n' ' ' > ids
	[ "$(cat ids)" = "1 2 3 4 5 6 7 8 9 10 " ] || atf_fail "failed calls: $(cat ids)"
}
outbound_queue_capped_cleanup() { netns_destroy; }

atf_test_case sip_retransmission_absorbed cleanup
sip_retransmission_absorbed_head() { atf_set descr "a copy of a MESSAGE (same branch, sent-by and method) that arrives while the first is pending is absorbed: the Prosody user gets the message once, the proxy one final response"; atf_set require.user root; }
sip_retransmission_absorbed_body() {
	setup uas_200
	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 2 --timeout 30
	m() {	# m BRANCH CALL-ID BODY
		printf "MESSAGE sip:carol@partner.test SIP/2.0\r\nVia: SIP/2.0/TCP $PROXY:5060;branch=%s\r\nMax-Forwards: 70\r\nFrom: <sip:dave@gw.test>;tag=1\r\nTo: <sip:carol@partner.test>\r\nCall-ID: %s\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" \
		    "$1" "$2" ${#3} "$3" | od -An -tx1 | tr -d ' \n'
	}
	# the first, its copy, then another: responses come in order, so
	# the second 200 must be the other's
	rawpeer --bind $PROXY --connect $GW 5060 \
	    "send-hex $(m z9hG4bKr1 r1 first)$(m z9hG4bKr1 r1 first)" \
	    "send-hex $(m z9hG4bKr2 r2 second)" \
	    "expect -t 20 ^SIP/2.0 200 [^\r]*\r\n(?:[^\r]+\r\n)*?Call-ID: r1\r\n(?:[^\r]+\r\n)*\r\n" \
	    "expect -t 20 ^SIP/2.0 200 [^\r]*\r\n(?:[^\r]+\r\n)*?Call-ID: r2\r\n" \
	    > raw.out 2>&1 || atf_fail "responses: $(oneline "$(cat raw.out)")"
	bg_wait carol || atf_fail "carol: $(oneline "$(cat carol.out carol.err)")"
	atf_check -o inline:"message dave@gw.test first\nmessage dave@gw.test second\n" \
	    grep "^message" carol.out
	expect_counter received sip_to_xmpp 2
	expect_counter delivered sip_to_xmpp 2
}
sip_retransmission_absorbed_cleanup() { netns_destroy; }

atf_test_case embedded_addresses_not_trusted cleanup
embedded_addresses_not_trusted_head() { atf_set descr "the SIP From is the stanza's own from: XEP-0033 ofrom, a XEP-0297 forwarded message and a XEP-0203 delay speak for nobody"; atf_set require.user root; }
embedded_addresses_not_trusted_body() {
	setup uas_200
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to bob@gw.test --body outer --wait-error 3 --payload "<addresses xmlns='http://jabber.org/protocol/address'><address type='ofrom' jid='ceo@gw.test'/><address type='replyto' jid='ceo@gw.test'/></addresses><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='ceo@gw.test' to='bob@gw.test'><body>inner</body><subject>inner</subject></message></forwarded><delay xmlns='urn:xmpp:delay' from='gw.test' stamp='2002-09-10T23:08:25Z'/>" \
	    > client.out 2> client.err
	grep -q "^noerror" client.out || atf_fail "$(oneline "$(cat client.out client.err)")"
	sipp_wait_requests uas 1 10 || atf_fail "SIPp received nothing"
	sipp_last_request uas > req.txt
	grep -q "^From: <sip:alice@partner.test;gr=[^>]*>;tag=" req.txt ||
	    atf_fail "From: $(oneline "$(grep -i '^From' req.txt)")"
	grep -qi "ceo\|inner\|^Subject" req.txt &&
	    atf_fail "embedded content reached SIP: $(oneline "$(cat req.txt)")"
	[ "$(sipp_body < req.txt)" = outer ] || atf_fail "body: $(oneline "$(cat req.txt)")"
}
embedded_addresses_not_trusted_cleanup() { netns_destroy; }

atf_test_case sip_malformed_requests_answered cleanup
sip_malformed_requests_answered_head() { atf_set descr "malformed SIP requests (RFC 4475 and PROTOS shapes, OpenSIPS 2023 PoC shapes, a From with U+FFFF that would lose it in XML) each get the right 4xx/5xx, the sip process stays, and a good MESSAGE afterwards is relayed"; atf_set require.user root; }
sip_malformed_requests_answered_body() {
	setup uas_200
	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 1 --timeout 30
	long=$(printf '%0600d' 0 | tr 0 a)
	V="Via: SIP/2.0/TCP $PROXY:5060;branch=z9hG4bKm"
	F="From: <sip:dave@gw.test>;tag=1"
	T="To: <sip:carol@partner.test>"
	R="MESSAGE sip:carol@partner.test SIP/2.0"
	B="Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
	n=0
	while IFS='|' read -r code req; do
		[ -n "$code" ] || continue
		n=$((n + 1))
		hex=$(printf "%b" "$req" | od -v -An -tx1 | tr -d ' \n')
		rawpeer --bind $PROXY --connect $GW 5060 "send-hex $hex" \
		    "expect -t 10 ^SIP/2.0 $code " > raw.out 2>&1 ||
		    atf_fail "case $n ($code): $(oneline "$(cat raw.out)")"
	done <<CASES
505|MESSAGE sip:carol@partner.test SIP/7.0\r\n$V\r\n$F\r\n$T\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\n$B
501|NEWMETHOD sip:carol@partner.test SIP/2.0\r\n$V\r\n$F\r\n$T\r\nCall-ID: c2\r\nCSeq: 1 NEWMETHOD\r\nContent-Length: 0\r\n\r\n
400|$R\r\n$V\r\n$F\r\n$T\r\nCSeq: 1 MESSAGE\r\n$B
400|$R\r\n$V\r\n$F\r\n$T\r\nCall-ID: c4\r\nCSeq: 1 OPTIONS\r\n$B
400|$R\r\n$V\r\n$F\r\n$T\r\nCall-ID: c5\r\nCSeq: 99999999999999999999 MESSAGE\r\n$B
400|$R\r\n$F\r\n$T\r\nCall-ID: c6\r\nCSeq: 1 MESSAGE\r\n$B
400|$R\r\n$V\r\n$F\r\n$T\r\nCall-ID: c7\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: -2\r\n\r\nhi
413|$R\r\n$V\r\n$F\r\n$T\r\nCall-ID: c8\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 4294967298\r\n\r\nhi
400|$R\r\n$V\r\n$F\r\n$T\r\nCall-ID: c9\r\nCSeq: 1 MESSAGE\r\nthis line has no colon\r\n$B
400|$R\r\n$V\r\nFrom: "dave <sip:dave@gw.test>;tag=1\r\n$T\r\nCall-ID: c10\r\nCSeq: 1 MESSAGE\r\n$B
400|$R\r\n$V\r\nFrom : <sip:dave@gw.test>;tag=1\r\nFROM: <sip:ceo@gw.test>;tag=2\r\n$T\r\nCall-ID: c11\r\nCSeq: 1 MESSAGE\r\n$B
400|$R\r\n $V\r\n$F\r\n$T\r\nCall-ID: c12\r\nCSeq: 1 MESSAGE\r\n$B
400|$R\n$V\n$F\n$T\nCall-ID: c13\nCSeq: 1 MESSAGE\nContent-Type: text/plain\nContent-Length: 2\n\nhi
400|$R\r\nVia: SIP/2.0/TCP $PROXY:5060;branch="z9hG4bKq\r\n$F\r\n$T\r\nCall-ID: c14\r\nCSeq: 1 MESSAGE\r\n$B
400|MESSAGE <sip:carol@partner.test> SIP/2.0\r\n$V\r\n$F\r\n$T\r\nCall-ID: c15\r\nCSeq: 1 MESSAGE\r\n$B
414|MESSAGE sip:$long$long$long$long$long@partner.test SIP/2.0\r\n$V\r\n$F\r\n$T\r\nCall-ID: c16\r\nCSeq: 1 MESSAGE\r\n$B
400|$R\r\n$V\r\n$F\r\n$T\r\nCall-ID: c17\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi
403|$R\r\n$V\r\nFrom: <sip:a%EF%BF%BFdmin@gw.test>;tag=1\r\n$T\r\nCall-ID: c19\r\nCSeq: 1 MESSAGE\r\n$B
200|OPTIONS sip:gw.test SIP/2.0\r\n$V\r\n$F\r\nTo: <sip:gw.test>\r\nCall-ID: c18\r\nCSeq: 1 OPTIONS\r\nAuthorization: Digest a a="",real\r\nProxy-Authorization: Digest username="x\r\nContent-Length: 0\r\n\r\n
CASES
	still_relays
	# the operator is told what each was
	grep -q "sip: from $PROXY:[0-9]*: MESSAGE c10 answered 400: the From address cannot be read" xmppgwd.log ||
	    atf_fail "no log line for c10: $(oneline "$(grep 'sip: from' xmppgwd.log)")"
	grep -q "sip: from $PROXY:[0-9]*: MESSAGE c19 answered 403: the From address has no XMPP form" xmppgwd.log ||
	    atf_fail "no log line for c19: $(oneline "$(grep 'sip: from' xmppgwd.log)")"
	grep -q "sip: from $PROXY:[0-9]*: duplicate From header" xmppgwd.log ||
	    atf_fail "no log line for c11: $(oneline "$(grep 'sip: from' xmppgwd.log)")"
}
sip_malformed_requests_answered_cleanup() { netns_destroy; }

atf_test_case sip_protos_style_battery cleanup
sip_protos_style_battery_head() { atf_set descr "251 INVITEs from the proxy's address, each with one element an overflow, a format string, an extreme integer, empty, NUL, control or non-ASCII bytes, a CRLF, missing or twice (PROTOS c07-sip, over TCP): each is answered with a 4xx/5xx, the sip process is the same one afterwards and still relays a MESSAGE"; atf_set require.user root; atf_set timeout 300; }
sip_protos_style_battery_body() {
	setup uas_200
	xmppclient_start carol recv --jid carol@partner.test --password pw \
	    --server $PA --count 1 --timeout 60
	before=$(sip_pid)
	[ -n "$before" ] || atf_fail "no sip process"
	netns_exec "$PEERS_PYTHON" "$(peers_lib)/sipbattery.py" $PROXY $GW \
	    5060 > battery.out 2>&1 ||
	    atf_fail "$(oneline "$(head -20 battery.out)")"
	grep -q "^251 cases answered" battery.out ||
	    atf_fail "$(oneline "$(cat battery.out)")"
	[ "$(sip_pid)" = "$before" ] ||
	    atf_fail "the sip process was restarted: $before -> $(sip_pid)"
	# the header block that never ended is answered at the peer's EOF
	grep -q "sip: from $PROXY:[0-9]*: the connection ended in the middle of a request ([0-9]* bytes): answered 400 and closed" xmppgwd.log ||
	    atf_fail "no log line for the unended request"
	still_relays
}
sip_protos_style_battery_cleanup() { netns_destroy; }

# still_relays: after bad requests, a good MESSAGE from the proxy to
# carol (receiving, started as "carol") is answered 200 and arrives
still_relays() {
	_m="MESSAGE sip:carol@partner.test SIP/2.0\r\nVia: SIP/2.0/TCP $PROXY:5060;branch=z9hG4bKok\r\nFrom: <sip:dave@gw.test>;tag=1\r\nTo: <sip:carol@partner.test>\r\nCall-ID: ok\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
	rawpeer --bind $PROXY --connect $GW 5060 \
	    "send-hex $(printf "$_m" | od -v -An -tx1 | tr -d ' \n')" \
	    "expect -t 20 ^SIP/2.0 200 " > raw.out 2>&1 ||
	    atf_fail "after them: $(oneline "$(cat raw.out)")"
	bg_wait carol || atf_fail "carol: $(oneline "$(cat carol.out carol.err)")"
	grep -q "^message dave@gw.test hi" carol.out ||
	    atf_fail "carol got: $(oneline "$(cat carol.out)")"
}

# sip_pid: the pid of the sip process
sip_pid() {
	for _p in $(pgrep -P "$(cat xmppgwd.pid)"); do
		tr '\0' ' ' < /proc/$_p/cmdline | grep -q "^xmppgwd: sip" &&
		    echo $_p
	done
}

# sip_rss: the resident memory of the sip process, in KiB
sip_rss() {
	_p=$(sip_pid)
	[ -n "$_p" ] && sed -n 's/^VmRSS:[^0-9]*\([0-9]*\) kB/\1/p' /proc/$_p/status
}

# sip_churn N: N SIP connections opened and dropped (churn.py --sip)
sip_churn() {
	netns_exec "$PEERS_PYTHON" "$(peers_lib)/churn.py" --sip $PROXY \
	    127.0.0.31 $GW 5060 "$1" > churn.out 2>&1 ||
	    atf_fail "churn: $(oneline "$(cat churn.out)")"
}

atf_test_case connection_churn_does_not_grow cleanup
connection_churn_does_not_grow_head() { atf_set descr "SIP connections dropped after a 403, a 400, a 200 or half a request leave no memory behind in the sip process"; atf_set require.user root; atf_set timeout 300; }
connection_churn_does_not_grow_body() {
	setup uas_200
	[ -n "$(sip_rss)" ] || atf_fail "no sip process"
	churn_rounds sip_rss sip_churn
	echo "growth of each round (KiB):$churn_growth"
	[ "$churn_min" -lt 64 ] || atf_fail "the sip process grew in \
every round of 2000 connections, by (KiB)$churn_growth"
	expect_counter refused sip_to_xmpp 0
	atf_check -o match:"^sip " "$(XGWCTL)" -s "$PWD/ctl.sock" status
}
connection_churn_does_not_grow_cleanup() { netns_destroy; }

atf_test_case xmpp_to_sip_in_flight_capped cleanup
xmpp_to_sip_in_flight_capped_head() { atf_set descr "at most 10000 messages wait for the proxy's final response: the next is answered resource-constraint at once, and counted"; atf_set require.user root; atf_set timeout 300; }
xmpp_to_sip_in_flight_capped_body() {
	setup uas_noanswer calls=20000
	xmppclient send --jid alice@partner.test --password pw --server $PA \
	    --to bob@gw.test --body m --count 10001 --wait-error 25 \
	    --login-timeout 60 > client.out 2> client.err
	grep -q "^error wait resource-constraint too many messages in flight" client.out ||
	    atf_fail "$(oneline "$(cat client.out client.err)")"
	expect_counter in_flight xmpp_to_sip 10000
	[ "$(cause xmpp_to_sip resource-constraint)" = 1 ] ||
	    atf_fail "causes: $(oneline "$(ctl status)")"
	gw_log="policy: 10000 messages waiting for SIP; message from alice@partner.test/[^ ]* refused"
	grep -q "$gw_log" xmppgwd.log || atf_fail "no log line: $(oneline "$(tail -n 3 xmppgwd.log)")"
}
xmpp_to_sip_in_flight_capped_cleanup() { netns_destroy; }

atf_init_test_cases() {
	atf_add_test_case xmpp_message_becomes_sip_message
	atf_add_test_case bodiless_message_refused
	atf_add_test_case subject_cannot_inject_headers
	atf_add_test_case language_carried_and_bodies_made_valid
	atf_add_test_case sip_404_becomes_item_not_found
	atf_add_test_case sip_480_becomes_recipient_unavailable
	atf_add_test_case sip_503_becomes_service_unavailable
	atf_add_test_case sip_no_answer_becomes_timeout
	atf_add_test_case proxy_down_fails_fast
	atf_add_test_case sip_message_reaches_prosody_user
	atf_add_test_case burst_both_ways
	atf_add_test_case thread_is_call_id
	atf_add_test_case sip_to_unknown_domain_404
	atf_add_test_case sip_to_unreachable_partner_fails
	atf_add_test_case sip_from_untrusted_403
	atf_add_test_case sip_duplicate_from_400
	atf_add_test_case sip_retransmission_absorbed
	atf_add_test_case outbound_queue_capped
	atf_add_test_case sip_extensions_and_encodings
	atf_add_test_case sip_nul_in_body_400
	atf_add_test_case embedded_addresses_not_trusted
	atf_add_test_case sip_malformed_requests_answered
	atf_add_test_case sip_protos_style_battery
	atf_add_test_case connection_churn_does_not_grow
	atf_add_test_case xmpp_to_sip_in_flight_capped
}
