#! /usr/bin/atf-sh
# Self-test of the SIP harness (regress/lib/sipp.sh and the scenarios in
# regress/sip/scenarios): a SIPp UAC sends MESSAGEs to a SIPp UAS over
# TCP in the test's namespace.  No xmppgwd here: when these pass, a
# failing gateway SIP test is the gateway's fault, not the harness's.

. "$(atf_get_srcdir)/../lib/common.sh"
. "$(atf_get_srcdir)/../lib/sipp.sh"

UAS=127.0.0.40
UAC=127.0.0.41

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || atf_fail "$1: got '$(oneline "$2")', want '$3'"
}

# uac_ok NAME ARGS...: sipp_uac must exit 0
uac_ok() {
	sipp_uac "$@"
	rc=$?
	[ $rc -eq 0 ] ||
	    atf_fail "sipp_uac $1 ($2) exited $rc: $(oneline "$(tail -n 5 "$1.err" 2>/dev/null)")"
}

atf_test_case message_200 cleanup
message_200_head() {
	atf_set descr "UAC MESSAGE -> UAS 200: the UAS logs the request exactly as sent, the UAC sees the 200"
	atf_set require.user root
	atf_set timeout 30
}
message_200_body() {
	netns_create
	sipp_uas_start uas uas_200 $UAS 5060
	body=$(printf 'hello bob\nsecond line, caf\303\251')
	uac_ok uac uac_expect_2xx $UAC $UAS:5060 \
	    ruri=sip:bob@gw.test from=sip:alice@corp.test from_name=Alice \
	    to=sip:bob@gw.test body="$body" header="Subject: harness"
	sipp_wait_requests uas 1 5
	expect_eq "requests received" "$(sipp_requests uas)" 1
	req=$(sipp_last_request uas)
	expect_eq "request line" "$(printf '%s' "$req" | sipp_start_line)" \
	    "MESSAGE sip:bob@gw.test SIP/2.0"
	expect_eq From "$(printf '%s' "$req" | sipp_header From |
	    sed 's/;tag=.*//')" '"Alice" <sip:alice@corp.test>'
	expect_eq To "$(printf '%s' "$req" | sipp_header to)" \
	    "<sip:bob@gw.test>"
	expect_eq Content-Type "$(printf '%s' "$req" | sipp_header Content-Type)" \
	    text/plain
	expect_eq Subject "$(printf '%s' "$req" | sipp_header Subject)" harness
	expect_eq Content-Length \
	    "$(printf '%s' "$req" | sipp_header Content-Length | tr -d ' ')" \
	    "$(printf '%s' "$body" | wc -c | tr -d ' ')"
	# the body byte for byte, through a file: $() would eat newlines
	sipp_last_request uas | sipp_body > got.body
	printf '%s' "$body" > want.body
	cmp -s got.body want.body ||
	    atf_fail "body: got '$(oneline "$(cat got.body)")', want '$(oneline "$body")'"
	# what the UAC got
	expect_eq "UAC's response" "$(sipp_response_code uac)" 200
	expect_eq "response Call-ID" \
	    "$(sipp_last_response uac | sipp_header Call-ID)" \
	    "$(printf '%s' "$req" | sipp_header i)"
}
message_200_cleanup() { netns_destroy; }

atf_test_case error_404 cleanup
error_404_head() {
	atf_set descr "UAS 404: a UAC expecting 404 succeeds, one expecting 2xx fails, uac_message reports 404; a UAS with calls=N exits 0 after N"
	atf_set require.user root
	atf_set timeout 30
}
error_404_body() {
	netns_create
	sipp_uas_start uas uas_404 $UAS 5060 calls=3
	uac_ok uac uac_expect_404 $UAC $UAS:5060
	expect_eq "UAC's response" "$(sipp_response_code uac)" 404
	sipp_uac wrong uac_expect_2xx $UAC $UAS:5060 timeout=5
	rc=$?
	[ $rc -eq 1 ] ||
	    atf_fail "a UAC expecting 2xx got a 404 and exited $rc, not 1"
	uac_ok any uac_message $UAC $UAS:5060
	expect_eq "uac_message's response" "$(sipp_response_code any)" 404
	sipp_uas_wait uas
	rc=$?
	[ $rc -eq 0 ] || atf_fail "the UAS exited $rc after its 3 calls, not 0"
	expect_eq "requests received" "$(sipp_requests uas)" 3
}
error_404_cleanup() { netns_destroy; }

atf_test_case codes cleanup
codes_head() {
	atf_set descr "each uas_CODE answers CODE and the matching uac_expect_CODE succeeds; several MESSAGEs in one run"
	atf_set require.user root
	atf_set timeout 40
}
codes_body() {
	netns_create
	port=5060
	for code in 202 403 408 480 500 503; do
		port=$((port + 1))
		sipp_uas_start "uas$code" "uas_$code" $UAS $port
		case $code in
		202) expect=uac_expect_2xx ;;
		*) expect=uac_expect_$code ;;
		esac
		uac_ok "uac$code" "$expect" $UAC $UAS:$port
		uac_ok "any$code" uac_message $UAC $UAS:$port
		expect_eq "uac_message against uas_$code" \
		    "$(sipp_response_code "any$code")" $code
		sipp_uas_stop "uas$code"
	done
	# uas_486 / uas_603 have no uac_expect_ file: uac_message tells
	for code in 486 603; do
		port=$((port + 1))
		sipp_uas_start "uas$code" "uas_$code" $UAS $port
		uac_ok "any$code" uac_message $UAC $UAS:$port
		expect_eq "uac_message against uas_$code" \
		    "$(sipp_response_code "any$code")" $code
	done
	# ten MESSAGEs in one UAC run, each its own call
	sipp_uas_start many uas_200 $UAS 5099
	uac_ok burst uac_expect_2xx $UAC $UAS:5099 calls=10 rate=100 \
	    body="one of ten"
	sipp_wait_requests many 10 5
	expect_eq "responses to the burst" "$(sipp_responses burst)" 10
	expect_eq "the first request's body" \
	    "$(sipp_request many 1 | sipp_body)" "one of ten"
}
codes_cleanup() { netns_destroy; }

atf_test_case noanswer cleanup
noanswer_head() {
	atf_set descr "uas_noanswer: the request arrives, no response; a UAC expecting 2xx fails at its timeout"
	atf_set require.user root
	atf_set timeout 30
}
noanswer_body() {
	netns_create
	sipp_uas_start uas uas_noanswer $UAS 5060
	t0=$(date +%s)
	sipp_uac uac uac_expect_2xx $UAC $UAS:5060 timeout=3 body=unanswered
	rc=$?
	t1=$(date +%s)
	[ $rc -eq 1 ] || atf_fail "the UAC exited $rc, not 1 (a failed call)"
	if [ $((t1 - t0)) -lt 2 ] || [ $((t1 - t0)) -gt 6 ]; then
		atf_fail "the UAC gave up after $((t1 - t0)) s, not about 3"
	fi
	grep -q 'receive timeout' uac.err ||
	    atf_fail "the UAC failed, but not by its receive timeout: $(oneline "$(cat uac.err)")"
	expect_eq "responses to the UAC" "$(sipp_responses uac)" 0
	sipp_response_code uac >/dev/null &&
	    atf_fail "sipp_response_code succeeds without a response"
	sipp_wait_requests uas 1 5
	expect_eq "body received" "$(sipp_last_request uas | sipp_body)" \
	    unanswered
	kill -0 "$(cat uas.pid)" 2>/dev/null ||
	    atf_fail "uas_noanswer has exited: $(oneline "$(tail -n 5 uas.out)")"
}
noanswer_cleanup() { netns_destroy; }

atf_init_test_cases() {
	atf_add_test_case message_200
	atf_add_test_case error_404
	atf_add_test_case codes
	atf_add_test_case noanswer
}
