#! /usr/bin/atf-sh
#
# Regression tests of the configuration parser, through xmppgwd -n.
#
#	NN.conf		a valid configuration; NN.ok is the exact output of
#			xmppgwd -nv, with @CERTS@ for the directory of the
#			test certificates and @WORK@ for the work directory;
#			NN.args holds extra arguments (-D macro=value);
#			NN.warn the warnings expected on stderr
#	errNN.conf	an invalid one; errNN.err holds the expected error
#			lines, errNN.pre shell commands run before
#	inc/		files the configurations include
#
# Certificates, keys and the dialback secret are made at test time in
# certs/ of each test's work directory and passed as -D certs=DIR.
# The binary is $(atf_get_srcdir)/../../xmppgwd/xmppgwd unless the
# configuration variable "xmppgwd" names another one.

xmppgwd_bin()
{
	if atf_config_has xmppgwd; then
		atf_config_get xmppgwd
	else
		echo "$(atf_get_srcdir)/../../xmppgwd/xmppgwd"
	fi
}

# Copy the configurations to the work directory, so that relative
# paths in them resolve there, and make the certificates.
prepare()
{
	srcdir=$(atf_get_srcdir)
	XGWD=$(xmppgwd_bin)
	[ -x "$XGWD" ] || atf_skip "$XGWD is not built: run make"
	cp "$srcdir"/*.conf . || atf_fail "cannot copy the configurations"
	cp -R "$srcdir/inc" . || atf_fail "cannot copy $srcdir/inc"
	sh "$srcdir/../lib/mkcerts.sh" "$PWD/certs" contoso.example \
	    litware.example fabrikam.example >/dev/null 2>&1 ||
	    atf_fail "mkcerts.sh failed"
	WORK=$(pwd -P)
	CERTS="$WORK/certs"
}

# Replace the directories that differ from run to run by placeholders.
placeholders()
{
	sed -e "s|$CERTS|@CERTS@|g" -e "s|$WORK|@WORK@|g" "$1"
}

run_ok()
{
	n=$1
	prepare
	args=""
	[ -f "$srcdir/$n.args" ] && args=$(cat "$srcdir/$n.args")
	if ! grep -q '^ca file' "$n.conf" &&
	    [ ! -r /etc/ssl/certs/ca-certificates.crt ]; then
		atf_skip "$n.conf needs /etc/ssl/certs/ca-certificates.crt"
	fi

	if [ -f "$srcdir/$n.warn" ]; then
		# shellcheck disable=SC2086
		atf_check -s exit:0 -o save:out -e save:err \
		    "$XGWD" -nv -D certs="$CERTS" $args -f "$n.conf"
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			grep -F -q -e "$line" err ||
			    atf_fail "$n.conf: stderr lacks: $line"
		done < "$srcdir/$n.warn"
		atf_check -o inline:"configuration OK\n" tail -n 1 err
		atf_check -o inline:"$(sed -n '$=' "$srcdir/$n.warn")\n" \
		    grep -c "warning:" err
	else
		# shellcheck disable=SC2086
		atf_check -s exit:0 -o save:out \
		    -e inline:"configuration OK\n" \
		    "$XGWD" -nv -D certs="$CERTS" $args -f "$n.conf"
	fi
	placeholders out > got
	atf_check -o file:"$srcdir/$n.ok" cat got

	# The canonical form parses again to itself.
	cp out roundtrip.conf
	atf_check -s exit:0 -o file:out -e ignore \
	    "$XGWD" -nv -f roundtrip.conf

	# Without -v nothing goes to stdout.
	# shellcheck disable=SC2086
	atf_check -s exit:0 -o empty -e match:"configuration OK" \
	    "$XGWD" -n -D certs="$CERTS" $args -f "$n.conf"
}

run_err()
{
	n=$1
	prepare
	if [ -f "$srcdir/$n.pre" ]; then
		# shellcheck source=/dev/null
		. "$srcdir/$n.pre" || atf_fail "$n.pre failed"
	fi
	atf_check -s exit:1 -o empty -e save:stderr \
	    "$XGWD" -n -D certs="$CERTS" -f "$n.conf"
	placeholders stderr > got
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		grep -F -q -e "$line" got ||
		    atf_fail "$n.conf: stderr lacks: $line; it has: $(cat got)"
	done < "$srcdir/$n.err"
	# and nothing else: no error is left out, none is a follow-up
	want=$(grep -c . "$srcdir/$n.err")
	have=$(grep -c -E '\.(conf|inc)(:[0-9]+)?: ' got)
	[ "$want" -eq "$have" ] ||
	    atf_fail "$n.conf: $have messages instead of $want: $(cat got)"
}

atf_test_case example
example_head()
{
	atf_set descr "conf/xmppgwd.conf passes xmppgwd -n"
}
example_body()
{
	conf="$(atf_get_srcdir)/../../conf/xmppgwd.conf"
	XGWD=$(xmppgwd_bin)
	[ -f "$conf" ] || atf_skip "$conf does not exist"
	[ -x "$XGWD" ] || atf_skip "$XGWD is not built: run make"
	[ -d "$(dirname "$conf")/certs" ] ||
	    atf_skip "no conf/certs: run make"
	atf_check -s exit:0 -o empty -e match:"configuration OK" \
	    "$XGWD" -n -f "$conf"
}

atf_test_case missing_file
missing_file_head()
{
	atf_set descr "a configuration file that does not exist"
}
missing_file_body()
{
	XGWD=$(xmppgwd_bin)
	[ -x "$XGWD" ] || atf_skip "$XGWD is not built: run make"
	atf_check -s exit:1 -o empty \
	    -e match:"no-such.conf: No such file or directory" \
	    "$XGWD" -n -f no-such.conf
}

atf_test_case dflag_persist
dflag_persist_head()
{
	atf_set descr "-D defines a macro that the file does not override"
}
dflag_persist_body()
{
	prepare
	# shellcheck disable=SC2016
	printf '%s\n' 'p = 5269' 'listen on 127.0.0.1 port $p' \
	    'ca file $certs/ca.crt' 'domain "contoso.example" {' \
	    '	certificate $certs/contoso.example.crt' \
	    '	key $certs/contoso.example.key' '}' > d.conf
	atf_check -s exit:0 -o match:"^listen on 127.0.0.1 port 5269\$" \
	    -e ignore "$XGWD" -nv -D certs="$CERTS" -f d.conf
	atf_check -s exit:0 -o match:"^listen on 127.0.0.1 port 5300\$" \
	    -e ignore "$XGWD" -nv -D certs="$CERTS" -D p=5300 -f d.conf
}

atf_init_test_cases()
{
	srcdir=$(atf_get_srcdir)

	atf_add_test_case example
	atf_add_test_case missing_file
	atf_add_test_case dflag_persist

	# atf_test_case defines a default head and body: it comes first
	for f in "$srcdir"/[0-9]*.conf; do
		n=$(basename "$f" .conf)
		atf_test_case "ok_$n"
		eval "ok_${n}_head() {
			atf_set descr '$n.conf: xmppgwd -nv prints $n.ok, which parses to itself'
		}"
		eval "ok_${n}_body() { run_ok $n; }"
		atf_add_test_case "ok_$n"
	done
	for f in "$srcdir"/err[0-9]*.conf; do
		n=$(basename "$f" .conf)
		atf_test_case "$n"
		eval "${n}_head() {
			atf_set descr '$n.conf: refused with the errors of $n.err'
		}"
		eval "${n}_body() { run_err $n; }"
		atf_add_test_case "$n"
	done
}
