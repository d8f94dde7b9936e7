#! /usr/bin/atf-sh
# Pacing under load (proc.c, proc_loop): at 5,000 messages/s each child
# takes its input in batches and wakes once per 4 ms interval, 0.05
# times per message.  Counts of sleeps, not times: regress/bench/bench.sh
# drives the gateway (in a network namespace of its own) and prints, for
# each process, the times it slept per message.

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

atf_test_case policy_wakes_once_per_interval
policy_wakes_once_per_interval_head() {
	atf_set descr "at 5,000 msg/s policy wakes once per 4 ms, not per batch of each neighbour"
	atf_set require.user root
	atf_set timeout 240
}
policy_wakes_once_per_interval_body() {
	bench_run
	for dir in "XMPP->SIP" "SIP->XMPP"; do
		s=$(sleeps "$dir" policy)
		# once per interval is 0.050; woken by each neighbour's
		# batch (before the pipeline) it was 0.106-0.140
		awk -v s="$s" 'BEGIN { exit !(s <= 0.075) }' ||
			atf_fail "$dir: policy slept $s times per message (at most 0.075)"
	done
}

atf_init_test_cases() {
	atf_add_test_case policy_wakes_once_per_interval
}
