# stunnel.sh: stunnel as the TLS side of the enterprise SIP proxy.
# Debian's SIPp is built without TLS, so stunnel terminates TLS in front
# of a SIPp UAS (server mode), or originates it for a SIPp UAC (client
# mode).  Sourced by atf-sh tests after common.sh and sipp.sh
# (netns_create first); stunnel runs in the foreground in the test's
# network namespace as a simple background command whose $! is stunnel
# itself, with its pid in ./NAME.pid so that netns_destroy stops it.
# Files, in the test's work directory:
#   NAME.conf  its configuration
#   NAME.log   its log (info level: each TLS failure says why)
#
#   stunnel_start NAME accept=ADDR:PORT connect=ADDR:PORT [opt=value ...]
# Accept on ADDR:PORT and forward each connection to the connect
# address; returns when the port listens, fails the test if stunnel
# exits first.  Options:
#   cert=FILE key=FILE  the certificate and key it presents (a server
#                       needs them)
#   cafile=FILE         verify the peer's chain against FILE; a server
#                       then requires a client certificate (mutual TLS)
#   client=yes          accept TCP and connect with TLS (default: accept
#                       TLS, connect TCP)
#   checkhost=NAME      (client) the server's certificate must be NAME's
#   local=ADDR          the source address of its outgoing connections

STUNNEL=/usr/bin/stunnel4

stunnel_start() {
	_tn=$1; shift
	_tacc="" _tcon="" _tcrt="" _tkey="" _tca="" _tcli=no _tchk="" _tloc=""
	for _to in "$@"; do
		case "$_to" in
		accept=*) _tacc=${_to#*=} ;;
		connect=*) _tcon=${_to#*=} ;;
		cert=*) _tcrt=${_to#*=} ;;
		key=*) _tkey=${_to#*=} ;;
		cafile=*) _tca=${_to#*=} ;;
		client=*) _tcli=${_to#*=} ;;
		checkhost=*) _tchk=${_to#*=} ;;
		local=*) _tloc=${_to#*=} ;;
		*) atf_fail "stunnel_start: unknown option $_to" ;;
		esac
	done
	[ -x "$STUNNEL" ] || atf_skip "$STUNNEL is not installed (make deps)"
	[ -n "$_tacc" ] && [ -n "$_tcon" ] ||
	    atf_fail "stunnel_start: accept= and connect= are required"
	{
		printf '%s\n' "foreground = yes" "pid =" \
		    "output = $PWD/$_tn.log" "debug = info" "[sip]" \
		    "client = $_tcli" "accept = $_tacc" "connect = $_tcon"
		[ -n "$_tcrt" ] && echo "cert = $_tcrt"
		[ -n "$_tkey" ] && echo "key = $_tkey"
		[ -n "$_tca" ] && printf '%s\n' "verifyChain = yes" \
		    "requireCert = yes" "CAfile = $_tca"
		[ -n "$_tchk" ] && echo "checkHost = $_tchk"
		[ -n "$_tloc" ] && echo "local = $_tloc"
	} > "$_tn.conf"
	rm -f "$_tn.log"
	# a simple command, not a function: $! must be stunnel itself
	nsenter --net="/run/netns/$(cat netns)" "$STUNNEL" "$PWD/$_tn.conf" \
	    > "$_tn.out" 2>&1 < /dev/null &
	echo $! > "$_tn.pid"
	wait_alive "$_tn" 10 _sipp_listening $! "${_tacc%:*}" "${_tacc##*:}" ||
	    atf_fail "stunnel $_tn did not come up on $_tacc: $(oneline "$(tail -n 5 "$_tn.out" "$_tn.log" 2>/dev/null)")"
}
