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

#ifndef PARSER_H
#define PARSER_H

enum actions {
	NONE,
	STATUS,
	RELOAD,
	SHOW_PARTNERS,
	SHOW_STREAMS,
	LOG_VERBOSE,
	LOG_BRIEF,
	AUTHORIZE,
	REVOKE,
	SHOW_AUTHS,
	SHOW_PARTNER,	/* show partners NAME */
	CERT_REQUEST,	/* certificate request DOMAIN: local, no daemon */
	CHECK_PARTNER	/* check partner DOMAIN */
};

#define PARSE_ARG_MAX	3072	/* a JID */

struct parse_result {
	enum actions	 action;
	char		 user[PARSE_ARG_MAX];	/* a local user */
	char		 jid[PARSE_ARG_MAX];	/* a remote contact, a partner */
};

struct parse_result	*parse(int, char *[]);

#endif /* PARSER_H */
