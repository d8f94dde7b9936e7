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
 * A strict parser for the SIP messages the gateway needs (RFC 3261
 * syntax, RFC 3428 MESSAGE), on stream transports: requests and
 * responses, compact header forms, folded header lines, Content-Length
 * framing.  Pure: no sockets, no globals.
 */

#ifndef SIPMSG_H
#define SIPMSG_H

#include <stddef.h>
#include <stdint.h>

#define SIP_MAX_MESSAGE		65536	/* headers + body */
#define SIP_MAX_HEADERS		64
#define SIP_MAX_VIA		16

struct sip_header {
	const char	*name;		/* canonical long form, e.g. "Call-ID" */
	const char	*value;		/* unfolded, trimmed, NUL-terminated */
};

struct sipmsg {
	int		 request;	/* 1 request, 0 response */
	char		 method[32];	/* request */
	char		 uri[512];	/* request */
	int		 status;	/* response: 100..699 */
	char		 reason[128];	/* response */
	/* the headers the gateway uses, exactly one each unless noted */
	const char	*from;		/* full header value */
	const char	*to;
	const char	*call_id;
	uint32_t	 cseq;
	char		 cseq_method[32];
	const char	*via[SIP_MAX_VIA];	/* top first; one or more */
	size_t		 nvia;
	const char	*content_type;	/* NULL if absent */
	const char	*content_language;
	const char	*subject;
	int		 max_forwards;	/* -1 if absent */
	/* every header, in order */
	struct sip_header headers[SIP_MAX_HEADERS];
	size_t		 nheaders;
	const char	*body;		/* Content-Length bytes, NUL added */
	size_t		 bodylen;
	char		*buf;		/* owns all strings above */
};

/*
 * Parse one message from the start of buf.  Returns 1 and sets *used to
 * the bytes it took when a complete message was parsed; 0 when more
 * input is needed (never when len >= SIP_MAX_MESSAGE); -1 when the input
 * is not acceptable: *code is the status to answer (400, 413, 505, ...)
 * and err says why, fit for a log line and a reason phrase.  Missing
 * Content-Length on a stream, or a second From/To/Call-ID/CSeq/
 * Content-Length (in any spelling: compact form, case, white space before
 * the colon), is 400.
 */
int		 sipmsg_parse(struct sipmsg *, const char *, size_t, size_t *,
		    int *, char *, size_t);
void		 sipmsg_free(struct sipmsg *);
const char	*sipmsg_header(const struct sipmsg *, const char *);
/*
 * A header parameter, e.g. sipmsg_param(m->to, "tag", buf, len); the
 * URI in name-addr form, e.g. "<sip:a@b>;tag=1" gives "sip:a@b".
 */
int		 sipmsg_param(const char *, const char *, char *, size_t);
int		 sipmsg_addr_uri(const char *, char *, size_t);
/* the media type of a Content-Type value, lower case, no parameters */
int		 sipmsg_media_type(const char *, char *, size_t);

#endif /* SIPMSG_H */
