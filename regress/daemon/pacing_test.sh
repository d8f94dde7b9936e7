#! /usr/bin/atf-sh
# Pacing under load (proc.c, proc_loop): at 5,000 messages/s the process
# a message enters by wakes once per 7 ms interval, each process after it
# is woken by the batch of the one before, and answers (a stanza written,
# a SIP final response) wake nobody: once per 35 messages, 0.029.  Counts
# of sleeps, not times: regress/bench/bench.sh drives the gateway (in a
# network namespace of its own) and prints, for each process, the times
# it slept per message.

bench_run() {
	BENCH_MACHINE=0 BENCH_RUNS="x2s:5000:20000 s2x:5000:20000" \
	    sh "$(atf_get_srcdir)/../bench/bench.sh" > bench.out 2>&1 ||
		{ cat bench.out; atf_fail "bench.sh failed: a message was missing or refused"; }
	cat bench.out
}

# sleeps DIRECTION ROLE: the largest sleeps per message of ROLE's
# processes in the 5,000/s run of DIRECTION
sleeps() {
	awk -v dir="$1" -v role="$2" '
	    $1 == dir && $2 == "5000/s" && $3 == "parent" {
		for (i = 3; i < NF; i += 2)
			if ($i == role) {
				split($(i + 1), v, "/")
				if (v[2] + 0 > max)
					max = v[2] + 0
				found = 1
			}
	    }
	    END { if (!found) exit 1; printf "%.3f\n", max }' bench.out ||
		atf_fail "no $2 figures for $1 in bench.out"
}

# at_most DIRECTION ROLE: ROLE's processes slept at most 0.040 times per
# message, once per interval and not twice (0.057)
at_most() {
	s=$(sleeps "$1" "$2")
	awk -v s="$s" 'BEGIN { exit !(s <= 0.040) }' ||
		atf_fail "$1: $2 slept $s times per message (at most 0.040)"
}

atf_test_case each_wakes_once_per_interval
each_wakes_once_per_interval_head() {
	atf_set descr "at 5,000 msg/s each process wakes once per 7 ms batch, answers wake none"
	atf_set require.user root
	atf_set timeout 240
}
each_wakes_once_per_interval_body() {
	bench_run
	# tls reads the partners' streams on its marks
	at_most "XMPP->SIP" tls
	# sip reads the proxy on its marks; policy and tls are woken by
	# the batch; the written stanzas and the verdicts do not wake
	# policy and sip (the pipeline of marks before: 0.050 each, and
	# 0.106-0.173 woken by every batch)
	at_most "SIP->XMPP" sip
	at_most "SIP->XMPP" policy
	at_most "SIP->XMPP" tls
}

atf_init_test_cases() {
	atf_add_test_case each_wakes_once_per_interval
}
