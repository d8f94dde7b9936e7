/*
 * Copyright (c) 2026 The xmppgwd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * xmltrickle: is the stream parser (xmppgwd/xml.c over expat) linear when
 * a peer sends one big token a byte at a time (CVE-2023-52425: expat
 * re-parsed an incomplete token on every feed, quadratic in its length)?
 * A stanza whose attribute value, or whose text, grows to N bytes is fed
 * one byte per call, for N from 32 KiB to just under the default stanza
 * limit of 256 KiB, and the CPU time per byte is printed.  Linear work
 * is a flat line; quadratic work doubles per byte with each doubling of
 * N.  Exits 1 if the largest N costs more than 3 times per byte what the
 * smallest does (4 would be quadratic), or if the limit trips early.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xml.h"

#define HDR	"<stream:stream xmlns='jabber:server' " \
		"xmlns:stream='http://etherx.jabber.org/streams' " \
		"from='partner.test' to='gw.test' version='1.0'>"

static const struct xml_limits	 lim = { 256 * 1024, 32, 64 };
static const struct xml_stream_cb cb = { NULL, NULL, NULL };

static double
cpu_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (ts.tv_sec * 1e9 + ts.tv_nsec);
}

/* ns of CPU per byte to feed head, then n bytes of fill one at a time */
static double
trickle(const char *head, size_t n)
{
	struct xml_stream	*xs;
	double			 t0, t1;
	size_t			 i;

	if ((xs = xml_stream_new(&cb, NULL, &lim)) == NULL)
		exit(2);
	if (xml_stream_feed(xs, HDR, strlen(HDR)) == -1 ||
	    xml_stream_feed(xs, head, strlen(head)) == -1) {
		fprintf(stderr, "xmltrickle: %s\n", xml_stream_errstr(xs));
		exit(1);
	}
	t0 = cpu_ns();
	for (i = 0; i < n; i++)
		if (xml_stream_feed(xs, "a", 1) == -1) {
			fprintf(stderr, "xmltrickle: %s after %zu bytes\n",
			    xml_stream_errstr(xs), i);
			exit(1);
		}
	t1 = cpu_ns();
	xml_stream_free(xs);
	return ((t1 - t0) / n);
}

int
main(void)
{
	static const char *heads[] = { "<message a='", "<message><body>" };
	static const char *what[] = { "an attribute value", "text" };
	static const size_t sizes[] = { 32768, 65536, 131072, 262000 };
	double		 ns[4];
	size_t		 h, i;
	int		 bad = 0;

	for (h = 0; h < 2; h++) {
		printf("XML parser, %s fed 1 byte at a time (ns of CPU per "
		    "byte):", what[h]);
		for (i = 0; i < 4; i++) {
			ns[i] = trickle(heads[h], sizes[i]);
			printf(" %zu KiB %.0f%s", sizes[i] / 1024, ns[i],
			    i < 3 ? "," : "");
		}
		if (ns[3] > 3 * ns[0]) {
			printf("  NOT LINEAR");
			bad = 1;
		}
		printf("\n");
	}
	return (bad);
}
