#! /usr/bin/atf-sh
# xmppgwd/dns.c against a real DNS server: dnsmasq on 127.0.0.2 in a
# network namespace of the test's own, queried through libunbound by the
# driver ./dnslookup.  Each case makes its own namespace and server.

. "$(atf_get_srcdir)/../lib/common.sh"

DNSLOOKUP() { echo "$(atf_get_srcdir)/dnslookup"; }

# start_dnsmasq: the test zone, in the namespace, on 127.0.0.2:53.  The
# SRV records of a.test are listed in neither priority order nor its
# reverse: the order must come from dns.c, not from the server.
start_dnsmasq() {
	[ -x "$(DNSLOOKUP)" ] || atf_fail "$(DNSLOOKUP) not built"
	netns_create
	# a simple command, not a function: $! must be dnsmasq itself
	nsenter --net="/run/netns/$(cat netns)" dnsmasq -k -C /dev/null \
	    -u root --pid-file= --listen-address=127.0.0.2 --bind-interfaces \
	    --port=53 --no-resolv --no-hosts --local=/test/ \
	    --log-queries --log-facility="$PWD/dnsmasq.log" \
	    --srv-host=_xmpp-server._tcp.a.test,t2.a.test,5301,20,5 \
	    --srv-host=_xmpp-server._tcp.a.test,t1.a.test,5300,10,5 \
	    --srv-host=_xmpp-server._tcp.a.test,t3.a.test,5302,30,5 \
	    --host-record=t1.a.test,127.0.0.21 \
	    --host-record=t3.a.test,127.0.0.25 \
	    --host-record=t2.a.test,127.0.0.22,::1 \
	    --srv-host=_xmpp-server._tcp.none.test \
	    --srv-host=_xmpp-server._tcp.b.test,x1.b.test,5269,10,0 \
	    --srv-host=_xmpp-server._tcp.b.test,x2.b.test,5269,20,0 \
	    --srv-host=_xmpp-server._tcp.lit.test,127.0.0.26,5303,10,0 \
	    --srv-host=_xmpp-server._tcp.zero.test,t1.a.test,0,10,0 \
	    --srv-host=_xmpp-server._tcp.zero.test,t3.a.test,5302,20,0 \
	    --srv-host=_xmpp-server._tcp.zero1.test,t1.a.test,0,10,0 \
	    --host-record=plain.test,127.0.0.23 \
	    --host-record=proxy.test,127.0.0.24 \
	    > dnsmasq.out 2>&1 &
	echo $! > dnsmasq.pid
	if ! wait_for 10 sh -c "nsenter --net=/run/netns/$(cat netns) \
	    ss -Hunl 'sport = :53' | grep -q '127\\.0\\.0\\.2:53'"; then
		atf_fail "dnsmasq did not come up: $(oneline "$(cat dnsmasq.out)")"
	fi
}

# lookup ARGS...: the driver in the namespace, against dnsmasq, with
# libunbound's built-in "test." zone made transparent
lookup() {
	netns_exec "$(DNSLOOKUP)" -r 127.0.0.2 \
	    -o 'local-zone:=test. transparent' "$@"
}

# check_lookup STATUS EXPECTED ARGS...: lookup ARGS must exit with
# STATUS and print EXPECTED (printf %b escapes).  atf_check cannot run
# shell functions, hence this.
check_lookup() {
	_status=$1 _want=$(printf '%b' "$2"); shift 2
	lookup "$@" > lookup.out 2> lookup.err
	_rc=$?
	_got=$(cat lookup.out)
	[ "$_got" = "$_want" ] ||
	    atf_fail "dnslookup $*: printed \"$(oneline "$_got")\", expected \"$(oneline "$_want")\"; stderr: $(oneline "$(cat lookup.err)")"
	[ "$_rc" -eq "$_status" ] ||
	    atf_fail "dnslookup $*: exit $_rc, expected $_status; stderr: $(oneline "$(cat lookup.err)")"
}

# asked NAME: did dnsmasq see a query for NAME (any type)?
asked() {
	grep -q "query\[[A-Z]*\] $1 from" dnsmasq.log
}

atf_test_case srv_with_two_targets_ordered_by_priority cleanup
srv_with_two_targets_ordered_by_priority_head() {
	atf_set descr "three SRV targets in priority order, each with its port, AAAA before A"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
srv_with_two_targets_ordered_by_priority_body() {
	start_dnsmasq
	check_lookup 0 \
	    "127.0.0.21 5300\n::1 5301\n127.0.0.22 5301\n127.0.0.25 5302" a.test
	asked _xmpp-server._tcp.a.test || atf_fail "no SRV query reached dnsmasq"
}
srv_with_two_targets_ordered_by_priority_cleanup() { netns_destroy; }

atf_test_case srv_dot_target_means_no_service cleanup
srv_dot_target_means_no_service_head() {
	atf_set descr "a lone SRV target \".\" is an error, without falling back to A/AAAA"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
srv_dot_target_means_no_service_body() {
	start_dnsmasq
	check_lookup 1 'error: service not offered (SRV target ".")' none.test
	! asked none.test || atf_fail "fell back to the address of none.test"
}
srv_dot_target_means_no_service_cleanup() { netns_destroy; }

atf_test_case no_srv_falls_back_to_a_record_port_5269 cleanup
no_srv_falls_back_to_a_record_port_5269_head() {
	atf_set descr "no SRV record (NXDOMAIN): the domain's own address, port 5269"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
no_srv_falls_back_to_a_record_port_5269_body() {
	start_dnsmasq
	check_lookup 0 "127.0.0.23 5269" plain.test
}
no_srv_falls_back_to_a_record_port_5269_cleanup() { netns_destroy; }

atf_test_case proxy_literal_skips_dns cleanup
proxy_literal_skips_dns_head() {
	atf_set descr "a proxy given as an address literal (v4 or bracketed v6) is used without any query"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
proxy_literal_skips_dns_body() {
	start_dnsmasq
	check_lookup 0 "127.0.0.9 5999" -p 127.0.0.9:5999 a.test
	check_lookup 0 "::1 5998" -p '[::1]:5998' a.test
	check_lookup 0 "127.0.0.9 5269" -p 127.0.0.9 a.test
	! grep -q 'query\[' dnsmasq.log ||
	    atf_fail "dnsmasq was asked: $(oneline "$(grep 'query\[' dnsmasq.log)")"
}
proxy_literal_skips_dns_cleanup() { netns_destroy; }

atf_test_case proxy_name_resolved_with_proxy_port cleanup
proxy_name_resolved_with_proxy_port_head() {
	atf_set descr "a proxy name is resolved (A/AAAA) and used with the proxy port, no SRV"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
proxy_name_resolved_with_proxy_port_body() {
	start_dnsmasq
	check_lookup 0 "127.0.0.24 5270" -p proxy.test:5270 a.test
	asked proxy.test || atf_fail "the proxy name was not looked up"
	! asked _xmpp-server._tcp.a.test || atf_fail "SRV asked despite the proxy"
	check_lookup 1 "error: no address for a.test (proxy nope.test: NXDOMAIN)" \
	    -p nope.test:5270 a.test
}
proxy_name_resolved_with_proxy_port_cleanup() { netns_destroy; }

atf_test_case hosts_entry_answers_without_server cleanup
hosts_entry_answers_without_server_head() {
	atf_set descr "hosts entries (from the parent's /etc/hosts) answer A and AAAA without asking the server"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
hosts_entry_answers_without_server_body() {
	start_dnsmasq
	check_lookup 0 "::1 5269\n127.0.0.50 5269" \
	    -H h.test=127.0.0.50 -H h.test=::1 h.test
	# the SRV query goes to dnsmasq (NXDOMAIN), the addresses do not
	asked _xmpp-server._tcp.h.test || atf_fail "no SRV query reached dnsmasq"
	! asked h.test || atf_fail "dnsmasq was asked for h.test"
	# also as the target of a name dnsmasq knows nothing of
	check_lookup 0 "127.0.0.51 5271" \
	    -H gw.example=127.0.0.51 -p gw.example:5271 a.test
}
hosts_entry_answers_without_server_cleanup() { netns_destroy; }

atf_test_case unknown_domain_error_message cleanup
unknown_domain_error_message_head() {
	atf_set descr "a domain without SRV or address: an error naming the domain and the rcode"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
unknown_domain_error_message_body() {
	start_dnsmasq
	check_lookup 1 "error: no address for unknown.test (NXDOMAIN)" unknown.test
}
unknown_domain_error_message_cleanup() { netns_destroy; }

atf_test_case srv_targets_without_address cleanup
srv_targets_without_address_head() {
	atf_set descr "SRV targets that do not resolve: an error listing them, no fallback"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
srv_targets_without_address_body() {
	start_dnsmasq
	check_lookup 1 "error: no address for b.test (SRV targets: x1.b.test NXDOMAIN, x2.b.test NXDOMAIN)" \
	    b.test
	! asked b.test || atf_fail "fell back to the address of b.test"
}
srv_targets_without_address_cleanup() { netns_destroy; }

atf_test_case srv_target_address_literal_used_as_is cleanup
srv_target_address_literal_used_as_is_head() {
	atf_set descr "an SRV target spelled as an IPv4 address is used without a lookup"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
srv_target_address_literal_used_as_is_body() {
	start_dnsmasq
	check_lookup 0 "127.0.0.26 5303" lit.test
	! asked 127.0.0.26 || atf_fail "the literal target was looked up"
}
srv_target_address_literal_used_as_is_cleanup() { netns_destroy; }

atf_test_case srv_port_zero_skipped cleanup
srv_port_zero_skipped_head() {
	atf_set descr "an SRV record with port 0 is skipped: the others are used, and alone it leaves no usable record"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
srv_port_zero_skipped_body() {
	start_dnsmasq
	check_lookup 0 "127.0.0.25 5302" zero.test
	check_lookup 1 "error: no usable SRV record for zero1.test" zero1.test
	! asked zero1.test || atf_fail "fell back to the address of zero1.test"
}
srv_port_zero_skipped_cleanup() { netns_destroy; }

atf_test_case works_chrooted_in_empty_dir cleanup
works_chrooted_in_empty_dir_head() {
	atf_set descr "set up and resolve inside an empty chroot, as the dialback process does"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
works_chrooted_in_empty_dir_body() {
	start_dnsmasq
	mkdir empty
	check_lookup 0 \
	    "127.0.0.21 5300\n::1 5301\n127.0.0.22 5301\n127.0.0.25 5302" \
	    -R "$PWD/empty" a.test
	check_lookup 0 "127.0.0.50 5269" -R "$PWD/empty" \
	    -H h.test=127.0.0.50 h.test
}
works_chrooted_in_empty_dir_cleanup() { netns_destroy; }

atf_test_case silent_resolver_srv_timeout_falls_back cleanup
silent_resolver_srv_timeout_falls_back_head() {
	atf_set descr "a resolver that never answers: the SRV query times out (10 s) and the domain's address is used"
	atf_set require.user root
	atf_set require.progs "ip nsenter"
	atf_set timeout 60
}
silent_resolver_srv_timeout_falls_back_body() {
	[ -x "$(DNSLOOKUP)" ] || atf_fail "$(DNSLOOKUP) not built"
	netns_create
	# nothing listens on 127.0.0.3; the address comes from a hosts entry
	atf_check -o inline:"127.0.0.50 5269\n" -e match:"no SRV \\(timeout\\)" \
	    nsenter --net="/run/netns/$(cat netns)" "$(DNSLOOKUP)" -v -r 127.0.0.3 \
	    -o 'local-zone:=test. transparent' -H h.test=127.0.0.50 h.test
}
silent_resolver_srv_timeout_falls_back_cleanup() { netns_destroy; }

atf_test_case free_cancels_outstanding_queries cleanup
free_cancels_outstanding_queries_head() {
	atf_set descr "dns_free with a query in flight or an answer scheduled: no callback, no crash"
	atf_set require.user root
	atf_set require.progs "ip nsenter"
}
free_cancels_outstanding_queries_body() {
	[ -x "$(DNSLOOKUP)" ] || atf_fail "$(DNSLOOKUP) not built"
	netns_create
	# after 0.3 s of waiting for the SRV answer
	atf_check -o inline:"cancelled\n" -e empty \
	    nsenter --net="/run/netns/$(cat netns)" "$(DNSLOOKUP)" -c -r 127.0.0.3 \
	    -o 'local-zone:=test. transparent' a.test
	# at once: the query just sent, or the answer already scheduled
	atf_check -o inline:"cancelled\n" -e empty \
	    nsenter --net="/run/netns/$(cat netns)" "$(DNSLOOKUP)" -C -r 127.0.0.3 \
	    -o 'local-zone:=test. transparent' a.test
	atf_check -o inline:"cancelled\n" -e empty \
	    nsenter --net="/run/netns/$(cat netns)" "$(DNSLOOKUP)" -C -r 127.0.0.3 \
	    -p 127.0.0.9:5999 a.test
}
free_cancels_outstanding_queries_cleanup() { netns_destroy; }

atf_test_case where_the_addresses_came_from cleanup
where_the_addresses_came_from_head() {
	atf_set descr "with the addresses, dns.c says where they came from: the SRV targets, the fallback and its reason, the proxy, a literal (for xmppgwctl check partner)"
	atf_set require.user root
	atf_set require.progs "dnsmasq ip nsenter ss"
}
where_the_addresses_came_from_body() {
	start_dnsmasq
	check_lookup 0 "127.0.0.21 5300\n::1 5301\n127.0.0.22 5301\n127.0.0.25 5302\nfrom: SRV _xmpp-server._tcp.a.test: t1.a.test port 5300, t2.a.test port 5301, t3.a.test port 5302" -w a.test
	check_lookup 0 "127.0.0.23 5269\nfrom: no SRV record (NXDOMAIN): plain.test port 5269" -w plain.test
	check_lookup 0 "127.0.0.24 5270\nfrom: proxy proxy.test port 5270 (SRV not used)" -w -p proxy.test:5270 a.test
	check_lookup 0 "127.0.0.9 5269\nfrom: address literal, port 5269" -w 127.0.0.9
	# an error has no "from"
	check_lookup 1 "error: no address for nowhere.test (NXDOMAIN)" -w nowhere.test
}
where_the_addresses_came_from_cleanup() { netns_destroy; }

atf_init_test_cases() {
	atf_add_test_case srv_port_zero_skipped
	atf_add_test_case where_the_addresses_came_from
	atf_add_test_case srv_with_two_targets_ordered_by_priority
	atf_add_test_case srv_dot_target_means_no_service
	atf_add_test_case no_srv_falls_back_to_a_record_port_5269
	atf_add_test_case proxy_literal_skips_dns
	atf_add_test_case proxy_name_resolved_with_proxy_port
	atf_add_test_case hosts_entry_answers_without_server
	atf_add_test_case unknown_domain_error_message
	atf_add_test_case srv_targets_without_address
	atf_add_test_case srv_target_address_literal_used_as_is
	atf_add_test_case works_chrooted_in_empty_dir
	atf_add_test_case silent_resolver_srv_timeout_falls_back
	atf_add_test_case free_cancels_outstanding_queries
}
