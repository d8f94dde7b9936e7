#! /usr/bin/atf-sh
# The man pages lint clean and say what the grammar has; secrets are
# compared in constant time.

top() { echo "$(atf_get_srcdir)/../.."; }

atf_test_case man_pages_lint_clean
man_pages_lint_clean_head() {
	atf_set descr "mandoc -Tlint -Wwarning reports nothing on the three pages"
}
man_pages_lint_clean_body() {
	t=$(top)
	atf_check -s exit:0 -o empty -e empty mandoc -Tlint -Wwarning \
	    "$t/man/xmppgwd.8" "$t/man/xmppgwd.conf.5" "$t/man/xmppgwctl.8"
}

atf_test_case conf_page_documents_every_keyword
conf_page_documents_every_keyword_head() {
	atf_set descr "every keyword of the grammar appears in xmppgwd.conf(5)"
}
conf_page_documents_every_keyword_body() {
	t=$(top)
	kw=$(sed -n '/^static const struct keywords keywords\[\]/,/^};/p' \
	    "$t/xmppgwd/parse.y" | sed -n 's/.*{ *"\([^"]*\)".*/\1/p')
	[ -n "$kw" ] || atf_fail "no keyword table found in parse.y"
	missing=""
	for k in $kw; do
		# a macro line where the word follows Ic or Cm: .It Ic state directory
		grep -q -E "^\..*\<(Ic|Cm)\>.*\<$k\>" \
		    "$t/man/xmppgwd.conf.5" || missing="$missing $k"
	done
	[ -z "$missing" ] || atf_fail "not in xmppgwd.conf.5:$missing"
}

atf_test_case secrets_compared_in_constant_time
secrets_compared_in_constant_time_head() {
	atf_set descr "dialback keys and secrets are compared only with" \
	    "CRYPTO_memcmp (CVE-2021-32921)"
}
secrets_compared_in_constant_time_body() {
	d=$(top)/xmppgwd
	cmp='\<(memcmp|bcmp|strcmp|strncmp|strcasecmp|strncasecmp)[[:space:]]*\('
	# where keys and the secret live, no other comparison at all
	bad=$(grep -n -E "$cmp" "$d/auth.c" "$d/dialback.c")
	[ -z "$bad" ] || atf_fail "comparison in key code: $bad"
	# the one comparison of keys is constant-time
	body=$(sed -n '/^dialback_key_equal(/,/^}/p' "$d/auth.c")
	echo "$body" | grep -q 'CRYPTO_memcmp(' ||
	    atf_fail "dialback_key_equal does not use CRYPTO_memcmp"
	grep -q 'dialback_key_equal(' "$d/dialback.c" ||
	    atf_fail "dialback.c does not check keys with dialback_key_equal"
	# nowhere is a secret, or a key in the stream code, an argument of one
	bad=$(grep -n -E "$cmp[^;]*\<secret" "$d"/*.c)
	bad="$bad$(grep -n -E "$cmp[^;]*\<key\>" "$d/stream.c" "$d/tls.c")"
	[ -z "$bad" ] || atf_fail "secret compared in variable time: $bad"
}

atf_init_test_cases() {
	atf_add_test_case man_pages_lint_clean
	atf_add_test_case conf_page_documents_every_keyword
	atf_add_test_case secrets_compared_in_constant_time
}
