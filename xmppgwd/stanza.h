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
 * Typed stanzas: what the tls process hands to policy instead of XML
 * (no raw bytes cross a process boundary, so no parser differential can
 * smuggle anything), and what it serialises canonically on the way out.
 */

#ifndef STANZA_H
#define STANZA_H

#include "imsg.h"
#include "xml.h"

#define JID_MAX		3072	/* RFC 7622: 3 x 1023 + separators */

enum stanza_kind {
	STANZA_MESSAGE,
	STANZA_PRESENCE,
	STANZA_IQ
};

struct stanza {
	enum stanza_kind	 kind;
	char			 type[16];
	char			 from[JID_MAX];
	char			 to[JID_MAX];
	char			 id[256];
	char			 lang[64];
	char			*body;
	char			*subject;
	char			*thread;
	int			 ping;		/* iq get with urn:xmpp:ping */
	/* type='error' */
	char			 err_type[16];	/* cancel, modify, ... */
	char			 err_cond[48];	/* RFC 6120 condition */
	char			*err_text;
};

int		 stanza_from_xml(struct stanza *, const struct xml_elem *);
struct xml_elem	*stanza_to_xml(const struct stanza *);
int		 stanza_encode(struct ibuf *, const struct stanza *);
int		 stanza_decode(struct imsg_cursor *, struct stanza *);
void		 stanza_init(struct stanza *);
void		 stanza_clear(struct stanza *);
/* turn s into the error reply to itself (swaps from and to) */
int		 stanza_make_error(struct stanza *, const char *,
		    const char *, const char *);
const char	*stanza_error_type(const char *);
const char	*jid_domain(const char *, char *, size_t);
const char	*jid_bare(const char *, char *, size_t);

#endif /* STANZA_H */
