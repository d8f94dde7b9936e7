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
 * xmppgwctl: control a running xmppgwd over its control socket.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xmppgwd.h"
#include "control.h"
#include "parser.h"
#include "output.h"
#include "certreq.h"

static __attribute__((__noreturn__)) void usage(void);
static int	 show(struct imsg *, struct parse_result *,
		    const struct output *, int *);
static int	 show_partner(struct imsg *, struct parse_result *,
		    const struct output *, int *);
static int	 stream_decode(struct imsg *, struct ctl_stream *);
static int	 printable(const char *);

static __attribute__((__noreturn__)) void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-j] [-s socket] command [argument ...]\n",
	    __progname);
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	struct parse_result	*res;
	struct imsgbuf		 ibuf;
	struct imsg		 imsg;
	struct ibuf		*b;
	const struct output	*out = &text_output;
	const char		*sockname = XMPPGWD_SOCKET;
	uint32_t		 v;
	char			*p;
	int			 ch, fd, n, done = 0, status = 0;

	while ((ch = getopt(argc, argv, "js:")) != -1) {
		switch (ch) {
		case 'j':
			out = &json_output;
			break;
		case 's':
			sockname = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if ((res = parse(argc, argv)) == NULL)
		exit(1);
	if (res->action == CERT_REQUEST)
		return (cert_request(res->jid));
	if (res->action == SHOW_PARTNER || res->action == CHECK_PARTNER)
		for (p = res->jid; *p != '\0'; p++)
			*p = tolower((unsigned char)*p);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sockname, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "socket name too long");
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "connect: %s", sockname);
	if (imsgbuf_init(&ibuf, fd) == -1 ||
	    imsgbuf_set_maxsize(&ibuf, XGW_CTL_MAXSIZE) == -1)
		err(1, "imsgbuf_init");

	switch (res->action) {
	case STATUS:
		imsg_compose(&ibuf, IMSG_CTL_STATUS, 0, 0, -1, NULL, 0);
		break;
	case RELOAD:
		imsg_compose(&ibuf, IMSG_CTL_RELOAD, 0, 0, -1, NULL, 0);
		break;
	case SHOW_PARTNERS:
		imsg_compose(&ibuf, IMSG_CTL_SHOW_PARTNERS, 0, 0, -1, NULL, 0);
		break;
	case SHOW_STREAMS:
		imsg_compose(&ibuf, IMSG_CTL_SHOW_STREAMS, 0, 0, -1, NULL, 0);
		break;
	case SHOW_PARTNER:
		/* both listings, filtered here: the partner, then its streams */
		imsg_compose(&ibuf, IMSG_CTL_SHOW_PARTNERS, 0, 0, -1, NULL, 0);
		imsg_compose(&ibuf, IMSG_CTL_SHOW_STREAMS, 0, 0, -1, NULL, 0);
		break;
	case AUTHORIZE:
	case REVOKE:
	case SHOW_AUTHS:
		if ((b = imsg_create(&ibuf, res->action == AUTHORIZE ?
		    IMSG_CTL_AUTHORIZE : res->action == REVOKE ?
		    IMSG_CTL_REVOKE : IMSG_CTL_SHOW_AUTHS, 0, 0, 256)) == NULL ||
		    imsg_add_string(b, res->user) == -1 ||
		    (res->action != SHOW_AUTHS &&
		    imsg_add_string(b, res->jid) == -1))
			err(1, "imsg_create");
		imsg_close(&ibuf, b);
		break;
	case CHECK_PARTNER:
		if ((b = imsg_create(&ibuf, IMSG_CTL_CHECK, 0, 0, 256)) == NULL ||
		    imsg_add_string(b, res->jid) == -1)
			err(1, "imsg_create");
		imsg_close(&ibuf, b);
		break;
	case LOG_VERBOSE:
	case LOG_BRIEF:
		v = res->action == LOG_VERBOSE ? 1 : 0;
		imsg_compose(&ibuf, IMSG_CTL_VERBOSE, 0, 0, -1, &v, sizeof(v));
		break;
	case NONE:
	case CERT_REQUEST:
		usage();
	}
	if (imsgbuf_flush(&ibuf) == -1)
		err(1, "write");

	out->head(res->action);
	while (!done) {
		if ((n = imsgbuf_read(&ibuf)) == -1)
			err(1, "read");
		if (n == 0)
			errx(1, "xmppgwd closed the connection");
		while (!done) {
			if ((n = imsgbuf_get(&ibuf, &imsg)) == -1)
				errx(1, "malformed answer from xmppgwd");
			if (n == 0)
				break;
			done = res->action == SHOW_PARTNER ?
			    show_partner(&imsg, res, out, &status) :
			    show(&imsg, res, out, &status);
			imsg_free(&imsg);
		}
	}
	close(fd);
	return (status);
}

/*
 * show partners NAME: the partner whose domain, or one of them, is NAME
 * (lower-cased: the daemon's domains are)
 */
static struct xgw_partner	 sel;
static int			 sel_found, sel_listed;

static int
show_partner(struct imsg *imsg, struct parse_result *res,
    const struct output *out, int *status)
{
	struct xgw_partner	 p;
	struct ctl_stream	 st;
	struct imsg_cursor	 c;
	char			 msg[PARSE_ARG_MAX + 32];

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_PARTNER:
		imsg_cursor(imsg, &c);
		if (sel_found) {
			/* domains are unique: no other one can match */
			if (partner_decode(&c, &p) == -1 ||
			    imsg_cursor_end(&c) == -1)
				errx(1, "malformed partner record");
			partner_free_domains(&p);
			return (0);
		}
		if (partner_decode(&c, &sel) == -1 ||
		    imsg_cursor_end(&c) == -1)
			errx(1, "malformed partner record");
		if (partner_has_domain(&sel, res->jid))
			sel_found = 1;
		else
			partner_free_domains(&sel);
		return (0);
	case IMSG_CTL_STREAM:
		if (stream_decode(imsg, &st) == -1)
			errx(1, "malformed stream record");
		if (sel_listed && partner_has_domain(&sel, st.remote))
			out->stream(&st);
		return (0);
	case IMSG_CTL_END:
		if (sel_listed) {
			out->tail(res->action);
			return (1);
		}
		if (!sel_found) {
			snprintf(msg, sizeof(msg), "no partner %s", res->jid);
			if (out == &text_output)
				fprintf(stderr, "xmppgwctl: %s\n", msg);
			else
				out->result(0, msg);
			*status = 1;
			return (1);
		}
		out->partner_streams(&sel);
		sel_listed = 1;
		return (0);
	default:
		return (show(imsg, res, out, status));
	}
}

static int
stream_decode(struct imsg *imsg, struct ctl_stream *st)
{
	struct imsg_cursor	 c;

	memset(st, 0, sizeof(*st));
	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &st->instance) == -1 ||
	    imsg_read_u32(&c, &st->id) == -1 ||
	    imsg_read_string(&c, st->dir, sizeof(st->dir)) == -1 ||
	    imsg_read_string(&c, st->local, sizeof(st->local)) == -1 ||
	    imsg_read_string(&c, st->remote, sizeof(st->remote)) == -1 ||
	    imsg_read_string(&c, st->addr, sizeof(st->addr)) == -1 ||
	    imsg_read_string(&c, st->tls_version,
	    sizeof(st->tls_version)) == -1 ||
	    imsg_read_string(&c, st->tls_cipher,
	    sizeof(st->tls_cipher)) == -1 ||
	    imsg_read_string(&c, st->auth, sizeof(st->auth)) == -1 ||
	    imsg_read_string(&c, st->state, sizeof(st->state)) == -1 ||
	    imsg_read_u32(&c, &st->age) == -1 ||
	    imsg_cursor_end(&c) == -1)
		return (-1);
	return (0);
}

/* what reaches the terminal from the network: no control characters */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return (0);
	return (1);
}

static int
show(struct imsg *imsg, struct parse_result *res, const struct output *out,
    int *status)
{
	struct ctl_proc		 cp;
	struct ctl_confinfo	 ci;
	struct xgw_partner	 p;
	struct ctl_stream	 st;
	struct ctl_counters	 cn;
	struct ctl_cause	 cc;
	struct ctl_auth		 au;
	struct ctl_step		 cs;
	struct imsg_cursor	 c;
	char			 msg[XGW_CTL_MAXSIZE];
	time_t			 now = time(NULL);
	size_t			 len;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_PROC:
		if (imsg_get_data(imsg, &cp, sizeof(cp)) == -1 ||
		    memchr(cp.role, '\0', sizeof(cp.role)) == NULL)
			errx(1, "malformed process record");
		out->proc(&cp, now);
		return (0);
	case IMSG_CTL_CONFINFO:
		if (imsg_get_data(imsg, &ci, sizeof(ci)) == -1 ||
		    memchr(ci.file, '\0', sizeof(ci.file)) == NULL)
			errx(1, "malformed configuration record");
		out->confinfo(&ci, now);
		return (0);
	case IMSG_CTL_PARTNER:
		imsg_cursor(imsg, &c);
		if (partner_decode(&c, &p) == -1 || imsg_cursor_end(&c) == -1)
			errx(1, "malformed partner record");
		out->partner(&p);
		partner_free_domains(&p);
		return (0);
	case IMSG_CTL_STREAM:
		if (stream_decode(imsg, &st) == -1)
			errx(1, "malformed stream record");
		out->stream(&st);
		return (0);
	case IMSG_CTL_COUNTERS:
		if (imsg_get_data(imsg, &cn, sizeof(cn)) == -1)
			errx(1, "malformed counters record");
		out->counters(&cn, now);
		return (0);
	case IMSG_CTL_CAUSE:
		if (imsg_get_data(imsg, &cc, sizeof(cc)) == -1 ||
		    cc.dir >= CTL_NDIRS ||
		    memchr(cc.cause, '\0', sizeof(cc.cause)) == NULL)
			errx(1, "malformed counters record");
		out->cause(&cc);
		return (0);
	case IMSG_CTL_AUTH:
		imsg_cursor(imsg, &c);
		if (imsg_read_string(&c, au.local, sizeof(au.local)) == -1 ||
		    imsg_read_string(&c, au.remote, sizeof(au.remote)) == -1 ||
		    imsg_read_bytes(&c, &au.created, sizeof(au.created)) == -1 ||
		    imsg_read_string(&c, au.source, sizeof(au.source)) == -1 ||
		    imsg_cursor_end(&c) == -1)
			errx(1, "malformed authorization record");
		out->auth(&au);
		return (0);
	case IMSG_CTL_STEP:
		imsg_cursor(imsg, &c);
		if (imsg_read_string(&c, cs.step, sizeof(cs.step)) == -1 ||
		    imsg_read_string(&c, cs.status, sizeof(cs.status)) == -1 ||
		    imsg_read_string(&c, cs.text, sizeof(cs.text)) == -1 ||
		    imsg_cursor_end(&c) == -1 || !printable(cs.step) ||
		    !printable(cs.status) || !printable(cs.text))
			errx(1, "malformed check step");
		out->step(&cs);
		return (0);
	case IMSG_CTL_END:
		out->tail(res->action);
		return (1);
	case IMSG_CTL_OK:
	case IMSG_CTL_FAIL:
		len = imsg_get_len(imsg);
		if (len >= sizeof(msg))
			errx(1, "answer too long");
		if (len > 0 && imsg_get_data(imsg, msg, len) == -1)
			errx(1, "malformed answer");
		msg[len] = '\0';
		/* an answer is text: anything else is not printed raw */
		if (strlen(msg) != len)
			errx(1, "malformed answer");
		if (imsg_get_type(imsg) == IMSG_CTL_OK)
			out->result(1, msg);
		else {
			if (out == &text_output)
				fprintf(stderr, "xmppgwctl: %s%s", msg,
				    len > 0 && msg[len - 1] == '\n' ? "" : "\n");
			else
				out->result(0, msg);
			*status = 1;
		}
		return (1);
	default:
		errx(1, "unexpected answer %u from xmppgwd",
		    imsg_get_type(imsg));
	}
}
