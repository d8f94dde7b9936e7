# peers.sh: real and scripted XMPP peers for the interop tests.
# Sourced by atf-sh tests after common.sh, whose helpers it uses
# (netns_exec, wait_for, make_certs, oneline, xgw_top).  Everything is
# started inside the test's network namespace (netns_create first) as a
# simple background command whose $! is the daemon itself, with its pid
# in ./NAME.pid so that netns_destroy stops it; state lives in the
# test's work directory.
#
#   prosody_start NAME DOMAIN ADDR [key=value ...]   a Prosody 0.12 peer
#   prosody_register NAME USER DOMAIN PASSWORD       add an account
#   prosody_stop NAME                                stop it (by pid)
#   prosody_log NAME / prosody_log_grep NAME ERE     its debug log
#   prosody_wait_log NAME ERE [SECONDS]              wait for a log line
#   dns_start [DOMAIN=ADDR[,PORT|,nosrv] ...] [--dnsmasq-option ...]
#   port_accepts ADDR PORT                           one TCP connect
#   xmppclient ARGS... / xmppclient_start NAME ARGS... / bg_wait NAME
#   rawpeer ARGS...    / rawpeer_start NAME ARGS...    (see the .py files)

PEERS_PYTHON=/usr/bin/python3	# Debian's, whatever python3 is on PATH

peers_lib() { echo "$(xgw_top)/regress/lib"; }

# port_accepts ADDR PORT: true when a TCP connection to ADDR:PORT in
# the namespace is accepted (ADDR may be IPv6, e.g. ::1)
port_accepts() {
	netns_exec "$PEERS_PYTHON" -c '
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()
' "$1" "$2"
}

# _peers_traversable DIR: let the prosody user reach DIR (kyua makes
# its work directories 0700 when running as root): add search
# permission for others on each ancestor that lacks it
_peers_traversable() {
	_d=""
	for _c in $(dirname "$1" | tr '/' ' '); do
		_d="$_d/$_c"
		setpriv --reuid=prosody --regid=prosody --init-groups \
		    test -x "$_d" 2>/dev/null || chmod o+x "$_d" || return 1
	done
}

# _peers_cert KIND DOMAIN DIR: put DIR/DOMAIN.crt and DIR/DOMAIN.key
#   ca          the test CA's certificate for DOMAIN (certs/DOMAIN.crt)
#   selfsigned  self-signed, right name
#   wrongname   signed by the test CA for not-DOMAIN
#   otherca     right name, signed by a CA nobody trusts
#   serveronly  the test CA's, right name, EKU serverAuth only
#   none        no certificate at all (no TLS)
_peers_cert() {
	_k=$1 _cdom=$2 _cd=$3
	case "$_k" in
	ca)
		cp "certs/$_cdom.crt" "$_cd/$_cdom.crt" &&
		cp "certs/$_cdom.key" "$_cd/$_cdom.key"
		;;
	selfsigned)
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		    -nodes -keyout "$_cd/$_cdom.key" -out "$_cd/$_cdom.crt" \
		    -days 30 -subj "/CN=$_cdom" \
		    -addext "subjectAltName=DNS:$_cdom" \
		    -addext "extendedKeyUsage=serverAuth,clientAuth" 2>/dev/null
		;;
	wrongname|otherca|serveronly)
		_eku=serverAuth,clientAuth
		if [ "$_k" = wrongname ]; then
			_cn="not-$_cdom" _ca=certs/ca
		elif [ "$_k" = serveronly ]; then
			# as Let's Encrypt's have been since 2026
			_cn=$_cdom _ca=certs/ca _eku=serverAuth
		else
			_cn=$_cdom _ca=$_cd/other-ca
			openssl req -x509 -newkey ec \
			    -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			    -keyout "$_ca.key" -out "$_ca.crt" -days 30 \
			    -subj "/CN=untrusted test CA" \
			    -addext basicConstraints=critical,CA:TRUE \
			    -addext keyUsage=critical,keyCertSign,cRLSign \
			    2>/dev/null || return 1
		fi
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		    -nodes -keyout "$_cd/$_cdom.key" -out "$_cd/$_cdom.csr" \
		    -subj "/CN=$_cn" 2>/dev/null || return 1
		printf '%s\n' "subjectAltName=DNS:$_cn" \
		    "extendedKeyUsage=$_eku" \
		    "basicConstraints=critical,CA:FALSE" > "$_cd/$_cdom.ext"
		openssl x509 -req -in "$_cd/$_cdom.csr" -CA "$_ca.crt" \
		    -CAkey "$_ca.key" -CAcreateserial -days 30 \
		    -extfile "$_cd/$_cdom.ext" -out "$_cd/$_cdom.crt" \
		    2>/dev/null || return 1
		rm -f "$_cd/$_cdom.csr" "$_cd/$_cdom.ext"
		;;
	none) ;;
	*) return 1 ;;
	esac
}

# _peers_lua_list a,b,c -> "a"; "b"; "c";
_peers_lua_list() {
	echo "$1" | tr ',' '\n' | sed '/^$/d; s/.*/"&";/' | tr '\n' ' '
}

# prosody_start NAME DOMAIN ADDR [key=value ...]
# A Prosody for DOMAIN listening on ADDR (s2s 5269, c2s 5222), state in
# ./NAME/ (prosody.cfg.lua, prosody.log at debug level, data/), run as
# user prosody in the namespace with its pid in ./NAME.pid; returns
# when both ports accept.  Makes the test CA and DOMAIN's certificate
# with make_certs when missing.  Trusts only the test CA (certs/ca.crt);
# resolves with libunbound through the DNS server on 127.0.0.2
# (dns_start), *.test included.  No mod_offline: a message to an
# offline user bounces at once.  Options:
#   secure_auth=true|false         s2s_secure_auth (default false)
#   require_encryption=true|false  s2s_require_encryption (default true)
#   dialback=on|off                load mod_dialback (default on)
#   tls=on|off                     load mod_tls (default on, off with cert=none:
#                                  without a certificate Prosody would still
#                                  offer STARTTLS, then fail the handshake)
#   cert=ca|selfsigned|wrongname|otherca|serveronly|none   (default ca,
#                                see _peers_cert)
#   secure_domains=d1,d2 / insecure_domains=d1,d2   per-domain overrides
#   s2s_port=N / c2s_port=N        listening ports (default 5269 / 5222)
#   s2s_timeout=SECONDS            connect/auth timeout (Prosody: 90)
#   resolver=ADDR                  DNS server (default 127.0.0.2)
#   cafile=FILE                    trust this CA file instead
#   extra='LUA'                    a raw line of global configuration
prosody_start() {
	_name=$1 _dom=$2 _addr=$3; shift 3
	_secure=false _reqenc=true _db=on _tls="" _cert=ca _sec="" _insec=""
	_s2sp=5269 _c2sp=5222 _tmo="" _res=127.0.0.2 _caf="" _extra=""
	for _o in "$@"; do
		case "$_o" in
		secure_auth=*) _secure=${_o#*=} ;;
		require_encryption=*) _reqenc=${_o#*=} ;;
		dialback=*) _db=${_o#*=} ;;
		tls=*) _tls=${_o#*=} ;;
		cert=*) _cert=${_o#*=} ;;
		secure_domains=*) _sec=${_o#*=} ;;
		insecure_domains=*) _insec=${_o#*=} ;;
		s2s_port=*) _s2sp=${_o#*=} ;;
		c2s_port=*) _c2sp=${_o#*=} ;;
		s2s_timeout=*) _tmo=${_o#*=} ;;
		resolver=*) _res=${_o#*=} ;;
		cafile=*) _caf=${_o#*=} ;;
		extra=*) _extra="$_extra
${_o#*=}" ;;
		*) atf_fail "prosody_start: unknown option $_o" ;;
		esac
	done
	if [ -z "$_tls" ]; then
		_tls=on
		[ "$_cert" = none ] && _tls=off
	fi
	make_certs "$_dom"
	_dir="$PWD/$_name"
	rm -rf "$_dir"
	mkdir -p "$_dir/data" "$_dir/certs"
	_peers_cert "$_cert" "$_dom" "$_dir/certs" ||
	    atf_fail "prosody_start: cannot make a $_cert certificate for $_dom"
	cp "${_caf:-certs/ca.crt}" "$_dir/ca.crt"
	echo "nameserver $_res" > "$_dir/resolv.conf"
	_mods='"roster"; "disco"; "ping"; "saslauth";'
	[ "$_tls" = on ] && _mods="$_mods \"tls\";"
	[ "$_db" = on ] && _mods="$_mods \"dialback\";"
	cat > "$_dir/prosody.cfg.lua" <<EOF
-- written by regress/lib/peers.sh prosody_start for $_dom
pidfile = "$_dir/prosody.pid"
data_path = "$_dir/data"
log = { debug = "$_dir/prosody.log" }
interfaces = { "$_addr" }
s2s_ports = { $_s2sp }
c2s_ports = { $_c2sp }
c2s_direct_tls_ports = { }
s2s_direct_tls_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { $_mods }
modules_disabled = { "offline"; }
authentication = "internal_plain"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
s2s_require_encryption = $_reqenc
s2s_secure_auth = $_secure
s2s_secure_domains = { $(_peers_lua_list "$_sec") }
s2s_insecure_domains = { $(_peers_lua_list "$_insec") }
${_tmo:+s2s_timeout = $_tmo}
ssl = { cafile = "$_dir/ca.crt"; capath = false; }
certificates = "$_dir/certs"
unbound = {
	resolvconf = "$_dir/resolv.conf";
	options = { ["local-zone:"] = "test. transparent" };
}
$_extra

VirtualHost "$_dom"
EOF
	chown -R prosody:prosody "$_dir"
	chmod -R go-rwx "$_dir"
	_peers_traversable "$_dir" ||
	    atf_fail "prosody_start: the prosody user cannot reach $_dir"
	# setpriv execs in place (runuser would fork): $! is prosody itself
	nsenter --net="/run/netns/$(cat netns)" setpriv --reuid=prosody \
	    --regid=prosody --init-groups -- prosody -F \
	    --config "$_dir/prosody.cfg.lua" > "$_dir/stdout" 2>&1 &
	echo $! > "$_name.pid"
	if ! wait_alive "$_name" 15 port_accepts "$_addr" "$_s2sp" ||
	    ! wait_alive "$_name" 5 port_accepts "$_addr" "$_c2sp"; then
		atf_fail "prosody $_name did not come up: $(oneline "$(tail -n 15 "$_dir/stdout" "$_dir/prosody.log" 2>&1)")"
	fi
}

# prosody_register NAME USER DOMAIN PASSWORD: add an account
prosody_register() {
	netns_exec setpriv --reuid=prosody --regid=prosody --init-groups -- \
	    prosodyctl --config "$PWD/$1/prosody.cfg.lua" register "$2" "$3" \
	    "$4" > "$1/register.out" 2>&1 ||
	    atf_fail "prosodyctl register $2@$3 failed: $(oneline "$(cat "$1/register.out")")"
}

# prosody_stop NAME: SIGTERM, wait (bounded) for it to exit
prosody_stop() { stop_pid "$1"; }

# prosody_log NAME: the log's path
prosody_log() { echo "$PWD/$1/prosody.log"; }

# prosody_log_grep NAME ERE: the matching lines of NAME's log; status
# as grep's
prosody_log_grep() {
	grep -E -- "$2" "$(prosody_log "$1")"
}

# prosody_wait_log NAME ERE [SECONDS]: wait (default 10 s) until a line
# matches; fail the test with the log's tail if none does
prosody_wait_log() {
	wait_for "${3:-10}" grep -qE -- "$2" "$(prosody_log "$1")" ||
	    atf_fail "no /$2/ in $1's log: $(oneline "$(tail -n 10 "$(prosody_log "$1")")")"
}

# dns_start [DOMAIN=ADDR[,PORT]] ... [DOMAIN=ADDR,nosrv] ... [--opt ...]
# dnsmasq on 127.0.0.2:53 in the namespace, authoritative for test.
# (anything else NXDOMAIN, no upstream, no /etc/hosts), pid in
# ./dnsmasq.pid, log (queries included) in ./dnsmasq.log.  For each
# DOMAIN=ADDR: an A/AAAA record and _xmpp-server._tcp.DOMAIN SRV to
# DOMAIN port PORT (default 5269); ",nosrv" gives the address only.
# Arguments starting with -- go to dnsmasq as they are (e.g.
# --srv-host=..., --txt-record=...).
dns_start() {
	set -- --keep-in-foreground --conf-file=/dev/null --pid-file= \
	    --user=nobody --group=nogroup \
	    --listen-address=127.0.0.2 --bind-interfaces --no-resolv \
	    --no-hosts --local=/test/ --log-queries --log-facility=- "$@"
	_args=""
	for _a in "$@"; do
		case "$_a" in
		--*) _args="$_args $_a" ;;
		*=*)
			_d=${_a%%=*} _v=${_a#*=} _port=5269
			case "$_v" in
			*,nosrv) _v=${_v%,nosrv} _port="" ;;
			*,*) _port=${_v##*,} _v=${_v%,*} ;;
			esac
			_args="$_args --host-record=$_d,$_v"
			[ -n "$_port" ] && _args="$_args --srv-host=_xmpp-server._tcp.$_d,$_d,$_port,0,5"
			;;
		*) atf_fail "dns_start: bad argument $_a" ;;
		esac
	done
	# shellcheck disable=SC2086
	nsenter --net="/run/netns/$(cat netns)" dnsmasq $_args \
	    > dnsmasq.log 2>&1 &
	echo $! > dnsmasq.pid
	wait_alive dnsmasq 10 port_accepts 127.0.0.2 53 ||
	    atf_fail "dnsmasq did not come up: $(oneline "$(tail -n 5 dnsmasq.log)")"
}

# xmppclient ARGS...: run regress/lib/xmppclient.py in the namespace
# (foreground); rawpeer ARGS...: the same for rawpeer.py
xmppclient() { netns_exec "$PEERS_PYTHON" "$(peers_lib)/xmppclient.py" "$@"; }
rawpeer() { netns_exec "$PEERS_PYTHON" "$(peers_lib)/rawpeer.py" "$@"; }

# xmppclient_start NAME ARGS... / rawpeer_start NAME ARGS...: the same
# in the background, stdout in ./NAME.out, stderr in ./NAME.err, pid in
# ./NAME.pid; returns once it is ready (--ready-file: the client is
# online, the peer listens), fails the test if it exits first.
xmppclient_start() { _bg_start "$1" xmppclient.py "$@"; }
rawpeer_start() { _bg_start "$1" rawpeer.py "$@"; }

_bg_start() {
	_n=$1 _py=$2; shift 3
	rm -f "$_n.ready"
	nsenter --net="/run/netns/$(cat netns)" "$PEERS_PYTHON" \
	    "$(peers_lib)/$_py" --ready-file "$PWD/$_n.ready" "$@" \
	    > "$_n.out" 2> "$_n.err" &
	echo $! > "$_n.pid"
	wait_alive "$_n" 20 test -f "$_n.ready" ||
	    atf_fail "$_py $_n did not get ready: $(oneline "$(cat "$_n.out" "$_n.err")")"
}

# bg_wait NAME: wait for what xmppclient_start / rawpeer_start started
# (its own timeouts bound it) and return its exit status
bg_wait() {
	_p=$(cat "$1.pid")
	wait "$_p"
	_rc=$?
	rm -f "$1.pid"
	return $_rc
}

# partner_up: dnsmasq answering for gw.test ($GW) and partner.test
# ($PA), and Prosody serving partner.test on $PA with the users alice
# and carol (password pw): the partner of the SIP interop tests
partner_up() {
	dns_start gw.test=$GW partner.test=$PA
	prosody_start p partner.test $PA
	prosody_register p alice partner.test pw
	prosody_register p carol partner.test pw
}

# counter NAME DIRECTION: a value from xmppgwctl -j status
counter() {
	ctl -j status | "$PEERS_PYTHON" -c '
import json, sys
c = json.load(sys.stdin)["counters"]
print(c[sys.argv[1]][sys.argv[2]])' "$1" "$2"
}

# cause DIRECTION CONDITION: the count of failures with that cause
cause() {
	ctl -j status | "$PEERS_PYTHON" -c '
import json, sys
c = json.load(sys.stdin)["counters"]["failures"]
print(sum(f["count"] for f in c
          if f["direction"] == sys.argv[1] and f["cause"] == sys.argv[2]))' \
	    "$1" "$2"
}

# expect_counter NAME DIRECTION VALUE: within 5 s (sip reports what it
# answered itself to policy after the answer)
counter_is() { [ "$(counter "$1" "$2")" = "$3" ]; }
expect_counter() {
	wait_for 5 counter_is "$1" "$2" "$3" ||
	    atf_fail "counter $1 $2 is '$(counter "$1" "$2")', not $3"
}
