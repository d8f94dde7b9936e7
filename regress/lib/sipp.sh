# sipp.sh: SIPp 3.6 (Debian sip-tester) peers for the SIP tests: a UAS
# playing the enterprise SIP proxy that xmppgwd sends MESSAGEs to, and a
# UAC playing the proxy that sends MESSAGEs to xmppgwd.  Sourced by
# atf-sh tests after common.sh (netns_create, wait_for, oneline,
# xgw_top).  Everything runs inside the test's network namespace
# (netns_create first) on 127.0.0.0/8, TCP (-t t1) unless told
# otherwise; every run is bounded by -m and -timeout; a UAS is a simple
# background command whose $! is sipp itself, with its pid in
# ./NAME.pid so that netns_destroy stops it.  Files, in the test's work
# directory, for a peer NAME:
#   NAME.msg   every SIP message sent and received (-trace_msg), exact
#   NAME.err   unexpected messages and errors (-trace_err)
#   NAME.out   sipp's stdout and stderr (statistics screens, fatal errors)
#
#   sipp_uas_start NAME SCENARIO ADDR PORT [opt=value ...] [-- SIPP-ARGS]
#   sipp_uas_stop NAME / sipp_uas_wait NAME     stop it / wait for its exit
#   sipp_uac NAME SCENARIO LOCAL TARGET [opt=value ...] [-- SIPP-ARGS]
#   sipp_uac_start NAME ... / sipp_uac_wait NAME   the same in background
#   sipp_wait_requests NAME N [SECONDS]          N requests received
#   sipp_requests NAME / sipp_responses NAME     how many were received
#   sipp_last_request NAME / sipp_request NAME I   a received request
#   sipp_last_response NAME / sipp_response NAME I / sipp_response_code NAME
#   sipp_header HEADER / sipp_body / sipp_start_line   filters on a message
#
# SCENARIO is a file name in regress/sip/scenarios without ".xml" (or a
# path to any scenario file):
#   uas_200 uas_202 uas_403 uas_404 uas_408 uas_480 uas_486 uas_500
#   uas_503 uas_603   answer every MESSAGE with that code (SIPp checks a
#                     response's code when it loads the scenario, so a
#                     -key cannot choose it: one file per code)
#   uas_noanswer      receive every MESSAGE, never answer
#   uac_message       send one MESSAGE, accept any IANA-registered final
#                     code: sipp_response_code NAME tells which (an
#                     unregistered one fails the call, exit 1, but
#                     sipp_response_code still tells)
#   uac_expect_2xx    send one MESSAGE, succeed only on 200 or 202
#   uac_expect_403 uac_expect_404 uac_expect_408 uac_expect_480
#   uac_expect_488 uac_expect_500 uac_expect_503   only on that code
#
# Reading what SIPp received: sipp_last_request NAME prints the last
# request NAME received, byte for byte as it came off the wire (CRLF
# line ends, body exactly Content-Length bytes, no newline added); pipe
# it into sipp_header / sipp_body / sipp_start_line.  Every request
# counts (a stray OPTIONS or BYE too; those also land in NAME.err as
# unexpected).  E.g.
#	sipp_wait_requests uas 1
#	[ "$(sipp_last_request uas | sipp_body)" = "hello" ]
#	sipp_last_request uas | sipp_header Content-Type   # text/plain

SIPP=/usr/bin/sipp
SIPP_PYTHON=/usr/bin/python3	# Debian's, whatever python3 is on PATH
_sipp_crlf=$(printf '\r\n_'); _sipp_crlf=${_sipp_crlf%_}

sipp_scenario_dir() { echo "$(xgw_top)/regress/sip/scenarios"; }

# sipp_scenario SCENARIO: the scenario file's path
sipp_scenario() {
	case "$1" in
	*/*|*.xml) echo "$1" ;;
	*) echo "$(sipp_scenario_dir)/$1.xml" ;;
	esac
}

# _sipp_listening PID ADDR PORT: process PID listens on TCP ADDR:PORT in
# the namespace (asked of the kernel: no probe connection reaches SIPp,
# and a stray listener on the same port does not count)
_sipp_listening() {
	netns_exec ss -Hltnp "src $2:$3" 2>/dev/null | grep -q "pid=$1,"
}

# _sipp_tail NAME: the end of what sipp said, for atf_fail
_sipp_tail() {
	oneline "$(grep -v -e '^ *$' -e '^[-+| ]' "$1.out" 2>/dev/null |
	    tail -n 5; tail -n 5 "$1.err" 2>/dev/null)"
}

# sipp_uas_start NAME SCENARIO ADDR PORT [opt=value ...] [-- SIPP-ARGS]
# A SIPp UAS listening on ADDR:PORT in the namespace, pid in ./NAME.pid,
# messages in ./NAME.msg; returns when the port listens, fails the test
# if sipp exits first.  Options:
#   calls=N        -m: exit after N calls (one call = one MESSAGE
#                  answered; default 1000: a UAS that exits closes its
#                  connections, so keep N above what the test sends)
#   timeout=S      -timeout: exit after S seconds whatever happens
#                  (default 120)
#   transport=T    -t (default t1: TCP, one socket per peer)
# SIPP-ARGS go to sipp as they are (e.g. -aa to answer OPTIONS).
sipp_uas_start() {
	_sn=$1 _ssf=$(sipp_scenario "$2") _sa=$3 _sp=$4; shift 4
	_sm=1000 _stmo=120 _stp=t1
	while [ $# -gt 0 ]; do
		case "$1" in
		calls=*) _sm=${1#*=} ;;
		timeout=*) _stmo=${1#*=} ;;
		transport=*) _stp=${1#*=} ;;
		--) shift; break ;;
		*) atf_fail "sipp_uas_start: unknown option $1" ;;
		esac
		shift
	done
	[ -f "$_ssf" ] || atf_fail "sipp_uas_start: no scenario $_ssf"
	rm -f "$_sn.msg" "$_sn.err" "$_sn.out"
	# a simple command, not a function: $! must be sipp itself
	nsenter --net="/run/netns/$(cat netns)" "$SIPP" -sf "$_ssf" \
	    -t "$_stp" -i "$_sa" -p "$_sp" -m "$_sm" -timeout "${_stmo}s" \
	    -nostdin -trace_msg -message_file "$PWD/$_sn.msg" \
	    -trace_err -error_file "$PWD/$_sn.err" "$@" \
	    > "$_sn.out" 2>&1 < /dev/null &
	echo $! > "$_sn.pid"
	wait_alive "$_sn" 10 _sipp_listening $! "$_sa" "$_sp" ||
	    atf_fail "sipp UAS $_sn did not come up on $_sa:$_sp: $(_sipp_tail "$_sn")"
}

# sipp_uas_stop NAME: SIGTERM (SIGKILL after 5 s), wait for it
sipp_uas_stop() { stop_pid "$1"; }

# sipp_uas_wait NAME: wait for a UAS (or sipp_uac_start) to exit by
# itself (its calls= or timeout= reached) and return sipp's status:
# 0 every call succeeded, 1 some failed, 99 no call at all, other
# values fatal errors
sipp_uas_wait() {
	_sp=$(cat "$1.pid")
	wait "$_sp"
	_src=$?
	rm -f "$1.pid"
	return $_src
}

# _sipp_uac_parse NAME SCENARIO LOCAL TARGET [opt=value ...] [-- ARGS]:
# the options of sipp_uac into _u* variables; _uextra is how many
# SIPP-ARGS follow "--" (the caller shifts the rest away)
_sipp_uac_parse() {
	_un=$1 _usf=$(sipp_scenario "$2") _ul=$3 _ut=$4; shift 4
	_ulp=""
	case "$_ul" in
	\[*\]:*|*.*:*) _ulp=${_ul##*:} _ul=${_ul%:*} ;;
	esac
	_ururi="" _ufrom="sip:sipp@$_ul" _ufn="" _uto="" _utn=""
	_uct="text/plain" _ubody="Hello from SIPp" _uhdr=""
	_um=1 _ur="" _utmo=10 _ulim="" _utp=t1
	_uextra=0
	while [ $# -gt 0 ]; do
		case "$1" in
		ruri=*) _ururi=${1#*=} ;;
		from=*) _ufrom=${1#*=} ;;
		from_name=*) _ufn="\"${1#*=}\" " ;;
		to=*) _uto=${1#*=} ;;
		to_name=*) _utn="\"${1#*=}\" " ;;
		ctype=*) _uct=${1#*=} ;;
		body=*) _ubody=${1#*=} ;;
		header=*) _uhdr="$_uhdr$_sipp_crlf${1#*=}" ;;
		calls=*) _um=${1#*=} ;;
		rate=*) _ur=${1#*=} ;;
		timeout=*) _utmo=${1#*=} ;;
		limit=*) _ulim=${1#*=} ;;
		transport=*) _utp=${1#*=} ;;
		--) shift; _uextra=$#; break ;;
		*) atf_fail "sipp_uac: unknown option $1" ;;
		esac
		shift
	done
	[ -n "$_ururi" ] || _ururi="sip:service@$_ut"
	[ -n "$_uto" ] || _uto=$_ururi
	[ -n "$_ulim" ] || _ulim=$((_utmo + 5 + _um))
	[ -f "$_usf" ] || atf_fail "sipp_uac: no scenario $_usf"
	rm -f "$_un.msg" "$_un.err" "$_un.out"
}

# sipp_uac NAME SCENARIO LOCAL TARGET [opt=value ...] [-- SIPP-ARGS]
# Run a SIPp UAC in the namespace, in the foreground, from LOCAL (ADDR,
# or ADDR:PORT; without a port SIPp takes 5060 on ADDR or the next free
# one, and consecutive runs reuse it without trouble; it listens there,
# its TCP connection comes from an ephemeral port) to TARGET
# (ADDR:PORT), and return sipp's status: 0 when every call completed as
# the scenario expects, 1 when one failed (unexpected response, nothing
# before the timeout), 99 when no call was made, other values fatal
# errors (e.g. 255 connection refused).  Messages in ./NAME.msg.  A
# failed call is just dropped (-default_behaviors all,-bye: SIPp would
# otherwise send a BYE, meaningless after a MESSAGE).
# Options (the values of the scenario's keys, see its header):
#   ruri=URI          Request-URI (default sip:service@TARGET)
#   from=URI          From (default sip:sipp@LOCAL); from_name=NAME its
#                     display name (quoted for you)
#   to=URI            To (default the Request-URI); to_name=NAME
#   ctype=TYPE        Content-Type (default text/plain)
#   body=TEXT         the body, byte for byte (default "Hello from SIPp");
#                     Content-Length is computed
#   header='Name: value'   an extra header line (repeatable)
#   calls=N           -m: MESSAGEs to send, one per call (default 1)
#   rate=R            -r: calls per second (SIPp's default 10)
#   timeout=S         each response is awaited at most S seconds
#                     (-recv_timeout; default 10): the call then fails
#                     and sipp exits 1
#   limit=S           the whole run is bounded by S seconds (-timeout
#                     -timeout_error: sipp exits 255 if reached; default
#                     timeout + 5 + calls)
#   transport=T       -t (default t1)
sipp_uac() {
	_sipp_uac_parse "$@"
	shift 4
	while [ $# -gt "$_uextra" ]; do shift; done
	netns_exec "$SIPP" -sf "$_usf" -t "$_utp" -i "$_ul" \
	    ${_ulp:+-p "$_ulp"} -m "$_um" ${_ur:+-r "$_ur"} \
	    -timeout "${_ulim}s" -timeout_error \
	    -recv_timeout "$((_utmo * 1000))" \
	    -nostdin -trace_msg -message_file "$PWD/$_un.msg" \
	    -trace_err -error_file "$PWD/$_un.err" -default_behaviors all,-bye \
	    -key ruri "$_ururi" -key from "$_ufrom" -key from_name "$_ufn" \
	    -key to "$_uto" -key to_name "$_utn" -key ctype "$_uct" \
	    -key headers "$_uhdr" -key body "$_ubody" \
	    "$@" "$_ut" > "$_un.out" 2>&1 < /dev/null
}

# sipp_uac_start NAME ... : sipp_uac in the background (pid in
# ./NAME.pid); sipp_uac_wait NAME waits for it and returns its status
sipp_uac_start() {
	_sipp_uac_parse "$@"
	shift 4
	while [ $# -gt "$_uextra" ]; do shift; done
	# a simple command, not a function: $! must be sipp itself
	nsenter --net="/run/netns/$(cat netns)" "$SIPP" -sf "$_usf" \
	    -t "$_utp" -i "$_ul" ${_ulp:+-p "$_ulp"} -m "$_um" \
	    ${_ur:+-r "$_ur"} -timeout "${_ulim}s" -timeout_error \
	    -recv_timeout "$((_utmo * 1000))" \
	    -nostdin -trace_msg -message_file "$PWD/$_un.msg" \
	    -trace_err -error_file "$PWD/$_un.err" -default_behaviors all,-bye \
	    -key ruri "$_ururi" -key from "$_ufrom" -key from_name "$_ufn" \
	    -key to "$_uto" -key to_name "$_utn" -key ctype "$_uct" \
	    -key headers "$_uhdr" -key body "$_ubody" \
	    "$@" "$_ut" > "$_un.out" 2>&1 < /dev/null &
	echo $! > "$_un.pid"
}
sipp_uac_wait() { sipp_uas_wait "$@"; }

# _sipp_log NAME WHAT [INDEX]: from NAME.msg (SIPp writes each message
# as a separator line, "TCP message received [LEN] bytes :", an empty
# line, then exactly LEN bytes): WHAT is count-requests,
# count-responses, request or response; INDEX counts from 1, or from
# the end when negative (default -1, the last).  Prints the message's
# bytes as received; status 1 when there is no such message.
_sipp_log() {
	"$SIPP_PYTHON" -c '
import re, sys
name, what = sys.argv[1], sys.argv[2]
idx = int(sys.argv[3]) if len(sys.argv) > 3 else -1
try:
    data = open(name + ".msg", "rb").read()
except OSError:
    data = b""
msgs = []
for m in re.finditer(rb"^-{20,} [^\n]*\n\S+ message received \[(\d+)\] bytes :\n\n",
                     data, re.M):
    msgs.append(data[m.end():m.end() + int(m.group(1))])
req = [m for m in msgs if not m.startswith(b"SIP/2.0 ")]
rsp = [m for m in msgs if m.startswith(b"SIP/2.0 ")]
if what.startswith("count-"):
    print(len(req if what == "count-requests" else rsp))
    sys.exit(0)
sel = req if what == "request" else rsp
if idx > 0:
    idx -= 1
if not -len(sel) <= idx < len(sel):
    sys.exit(1)
sys.stdout.buffer.write(sel[idx])
' "$1" "$2" ${3:+"$3"}
}

# sipp_requests NAME / sipp_responses NAME: how many NAME received
sipp_requests() { _sipp_log "$1" count-requests; }
sipp_responses() { _sipp_log "$1" count-responses; }

# sipp_request NAME INDEX / sipp_response NAME INDEX: the INDEXth (from
# 1; negative: from the end) request / response NAME received, as it
# came; status 1 when there is none
sipp_request() { _sipp_log "$1" request "$2"; }
sipp_response() { _sipp_log "$1" response "$2"; }
sipp_last_request() { _sipp_log "$1" request -1; }
sipp_last_response() { _sipp_log "$1" response -1; }

# sipp_response_code NAME: the status code of the last response NAME
# received (e.g. after uac_message); status 1 when none came
sipp_response_code() {
	_sr=$(sipp_last_response "$1") || return 1
	printf '%s\n' "$_sr" | sed -n '1s/^SIP\/2\.0 \([0-9][0-9][0-9]\).*/\1/p'
}

# sipp_wait_requests NAME N [SECONDS]: wait (default 10 s) until NAME
# has received at least N requests; fail the test if it has not
sipp_wait_requests() {
	wait_for "${3:-10}" _sipp_has_requests "$1" "$2" ||
	    atf_fail "sipp $1 received $(sipp_requests "$1") requests, not $2, in ${3:-10} s: $(_sipp_tail "$1")"
}
_sipp_has_requests() { [ "$(sipp_requests "$1")" -ge "$2" ]; }

# Filters on one message on stdin (as sipp_last_request prints it):
#   sipp_start_line          the request or status line, without CRLF
#   sipp_header HEADER       the value of each HEADER line, one per line
#                            (name case-insensitive, compact forms and
#                            folded lines understood); status 1 if none
#   sipp_body                the body, byte for byte
sipp_start_line() { head -n 1 | tr -d '\r'; }
sipp_header() {
	"$SIPP_PYTHON" -c '
import re, sys
compact = {"from": "f", "to": "t", "via": "v", "call-id": "i",
           "contact": "m", "content-type": "c", "content-length": "l",
           "content-encoding": "e", "subject": "s", "supported": "k",
           "event": "o", "refer-to": "r", "referred-by": "b",
           "allow-events": "u", "session-expires": "x"}
want = sys.argv[1].lower()
names = {want, compact.get(want, want)}
names |= {k for k, v in compact.items() if v == want}
data = sys.stdin.buffer.read()
head = re.split(rb"\r?\n\r?\n", data, 1)[0].decode("utf-8", "replace")
lines = re.sub(r"\r?\n[ \t]+", " ", head).splitlines()[1:]
found = False
for line in lines:
    n, sep, v = line.partition(":")
    if sep and n.strip().lower() in names:
        print(v.strip())
        found = True
sys.exit(0 if found else 1)
' "$1"
}
sipp_body() {
	"$SIPP_PYTHON" -c '
import re, sys
data = sys.stdin.buffer.read()
parts = re.split(rb"\r?\n\r?\n", data, 1)
sys.stdout.buffer.write(parts[1] if len(parts) > 1 else b"")
'
}
