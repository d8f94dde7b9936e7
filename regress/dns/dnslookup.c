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
 * dnslookup: drive xmppgwd/dns.c from the command line for the interop
 * tests in dns_test.sh.
 *
 *	dnslookup [-Ccvw] [-R chroot] [-r resolver] [-o name=value]
 *	    [-H name=addr] [-p proxy[:port]] domain
 *
 * prints "error: TEXT" (exit 1) or one "ADDRESS PORT" line per address
 * (exit 0), after them with -w "from: TEXT", where they came from.  -c runs the loop for CANCEL_AFTER with the lookup in
 * flight (point -r at an address where nothing answers), then frees the
 * context and checks that the callback never ran ("cancelled"); -C
 * frees it at once, before the loop ever ran (an answer already
 * scheduled, as for a proxy literal, must go too).  -R chroots to an
 * (empty) directory before dns_new(), as the dialback process does.
 * The configuration is built by hand: dns.c reads only the resolvers,
 * the resolver options and the hosts entries.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "xmppgwd.h"
#include "dns.h"
#include "log.h"

#define LOOKUP_DEADLINE	30	/* seconds: two dns.c phases + slack */
#define CANCEL_AFTER	300000	/* microseconds */

static int	 answered;
static int	 status = 2;
static int	 where;

static void	 usage(void) __attribute__((__noreturn__));
static void	 add_option(struct xgw_options *, const char *);
static void	 free_config(struct xgw_config *);
static void	 answer(void *, const char *, const char *,
		    const struct sockaddr_storage *, size_t);
static void	 deadline(int, short, void *);
static void	 stop(int, short, void *);

static void
usage(void)
{
	fprintf(stderr, "usage: dnslookup [-Ccvw] [-R chroot] [-r resolver] "
	    "[-o name=value]\n\t[-H name=addr] [-p proxy[:port]] domain\n");
	exit(2);
}

/* "name=value" into an option list */
static void
add_option(struct xgw_options *list, const char *arg)
{
	struct xgw_option	*o;
	const char		*eq;

	if ((eq = strchr(arg, '=')) == NULL)
		usage();
	if ((o = calloc(1, sizeof(*o))) == NULL)
		err(2, NULL);
	if ((size_t)(eq - arg) >= sizeof(o->name) ||
	    strlcpy(o->value, eq + 1, sizeof(o->value)) >= sizeof(o->value))
		errx(2, "%s: too long", arg);
	memcpy(o->name, arg, eq - arg);
	TAILQ_INSERT_TAIL(list, o, entry);
}

static void
free_config(struct xgw_config *conf)
{
	struct xgw_name		*n;
	struct xgw_option	*o;

	while ((n = TAILQ_FIRST(&conf->resolvers)) != NULL) {
		TAILQ_REMOVE(&conf->resolvers, n, entry);
		free(n);
	}
	while ((o = TAILQ_FIRST(&conf->resolver_options)) != NULL) {
		TAILQ_REMOVE(&conf->resolver_options, o, entry);
		free(o);
	}
	while ((o = TAILQ_FIRST(&conf->hosts)) != NULL) {
		TAILQ_REMOVE(&conf->hosts, o, entry);
		free(o);
	}
	free(conf);
}

static void
answer(void *arg, const char *error, const char *how,
    const struct sockaddr_storage *ss, size_t n)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 host[INET6_ADDRSTRLEN];
	size_t				 i;

	answered++;
	if (error != NULL) {
		printf("error: %s\n", error);
		status = 1;
	} else {
		for (i = 0; i < n; i++) {
			if (ss[i].ss_family == AF_INET6) {
				sin6 = (const struct sockaddr_in6 *)&ss[i];
				inet_ntop(AF_INET6, &sin6->sin6_addr, host,
				    sizeof(host));
				printf("%s %u\n", host, ntohs(sin6->sin6_port));
			} else {
				sin = (const struct sockaddr_in *)&ss[i];
				inet_ntop(AF_INET, &sin->sin_addr, host,
				    sizeof(host));
				printf("%s %u\n", host, ntohs(sin->sin_port));
			}
		}
		if (where)
			printf("from: %s\n", how);
		status = n > 0 ? 0 : 1;
	}
	fflush(stdout);
	event_loopexit(NULL);
}

static void
deadline(int fd, short event, void *arg)
{
	printf("error: no answer within %d seconds\n", LOOKUP_DEADLINE);
	exit(3);
}

static void
stop(int fd, short event, void *arg)
{
	event_loopexit(NULL);
}

int
main(int argc, char *argv[])
{
	struct xgw_config	*conf;
	struct xgw_name		*n;
	struct dns_ctx		*ctx;
	struct event		 ev_deadline, ev_stop;
	struct timeval		 tv = { LOOKUP_DEADLINE, 0 };
	struct timeval		 soon = { 0, CANCEL_AFTER };
	char			 errbuf[512], proxy[XGW_NAME_MAX] = "";
	char			*p, *root = NULL;
	const char		*errstr;
	uint16_t		 proxy_port = XMPP_S2S_PORT;
	int			 ch, cancel = 0, verbose = 0;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		err(2, NULL);
	TAILQ_INIT(&conf->resolvers);
	TAILQ_INIT(&conf->resolver_options);
	TAILQ_INIT(&conf->hosts);

	while ((ch = getopt(argc, argv, "CcH:o:p:R:r:vw")) != -1) {
		switch (ch) {
		case 'C':
			cancel = 2;
			break;
		case 'c':
			cancel = 1;
			break;
		case 'H':
			add_option(&conf->hosts, optarg);
			break;
		case 'o':
			add_option(&conf->resolver_options, optarg);
			break;
		case 'p':
			/* "[v6]:port", "name:port", "v4:port" or no port */
			p = NULL;
			if (optarg[0] == '[') {
				if ((p = strchr(optarg, ']')) == NULL)
					usage();
				p = p[1] == ':' ? p + 1 : NULL;
			} else if ((p = strchr(optarg, ':')) != NULL &&
			    strchr(p + 1, ':') != NULL)
				p = NULL;	/* a bare IPv6 address */
			if (p != NULL) {
				*p++ = '\0';
				proxy_port = strtonum(p, 1, 65535, &errstr);
				if (errstr != NULL)
					errx(2, "port %s: %s", p, errstr);
			}
			if (strlcpy(proxy, optarg, sizeof(proxy)) >=
			    sizeof(proxy))
				errx(2, "proxy too long");
			break;
		case 'R':
			root = optarg;
			break;
		case 'r':
			if ((n = calloc(1, sizeof(*n))) == NULL)
				err(2, NULL);
			if (strlcpy(n->name, optarg, sizeof(n->name)) >=
			    sizeof(n->name))
				errx(2, "resolver too long");
			TAILQ_INSERT_TAIL(&conf->resolvers, n, entry);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			where = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();

	log_init(1, LOG_DAEMON);
	log_setverbose(verbose);
	event_init();
	if (root != NULL && (chroot(root) == -1 || chdir("/") == -1))
		err(2, "chroot %s", root);
	if ((ctx = dns_new(conf, errbuf, sizeof(errbuf))) == NULL)
		errx(2, "%s", errbuf);
	/* dns.c keeps nothing of the configuration */
	free_config(conf);
	if (dns_s2s_lookup(ctx, argv[0], proxy, proxy_port, answer,
	    NULL) == -1)
		errx(2, "dns_s2s_lookup failed");
	/* the contract: never an answer from inside the call */
	if (answered)
		errx(2, "callback ran inside dns_s2s_lookup");

	if (cancel) {
		evtimer_set(&ev_stop, stop, NULL);
		if (cancel == 1) {
			evtimer_add(&ev_stop, &soon);
			event_dispatch();
			if (answered)
				errx(2, "answered before the cancel");
		}
		dns_free(ctx);
		/* nothing of the lookup may remain in the loop */
		evtimer_add(&ev_stop, &soon);
		event_dispatch();
		if (answered)
			errx(2, "callback ran after dns_free");
		printf("cancelled\n");
		return (0);
	}

	evtimer_set(&ev_deadline, deadline, NULL);
	evtimer_add(&ev_deadline, &tv);
	event_dispatch();
	if (!answered)
		errx(2, "event loop ended without an answer");
	dns_free(ctx);
	return (status);
}
