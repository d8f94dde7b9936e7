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
 * SIP <-> XMPP mappings (RFC 7247, RFC 7572): addresses and errors.
 * Pure: no sockets, no globals.
 */

#ifndef MAP_H
#define MAP_H

#include <stddef.h>
#include <stdint.h>

struct xbuf;

/*
 * "user@domain/resource" -> "sip:user@domain;gr=resource".  Characters
 * the SIP user part cannot hold are %-escaped (RFC 3261 user ABNF); the
 * resource is carried as the GRUU "gr" parameter, %-escaped likewise.
 * XEP-0106 escapes in the localpart (\20, \40, ...) are unescaped first.
 * A JID without localpart is refused.  0 or -1.
 */
int		 map_jid_to_sip(const char *, char *, size_t);
/*
 * "sip:user@domain;gr=res" (or sips:, or with other parameters, which
 * are dropped; headers "?" refused) -> "user@domain/res", lower-casing
 * the domain; %-escapes decoded; characters an XMPP localpart cannot
 * hold (space " & ' / : < > @ \) are XEP-0106-escaped.  0 or -1.
 */
int		 map_sip_to_jid(const char *, char *, size_t);
/* a SIP final response code -> RFC 6120 stanza error condition */
const char	*map_sip_to_xmpp_error(int);
/* an RFC 6120 stanza error condition -> SIP response code */
int		 map_xmpp_error_to_sip(const char *);
/*
 * <thread/> -> Call-ID (RFC 7572): a token thread as it is, any other
 * as "t-" and 32 hex digits derived from it.  0 or -1.  The way back is
 * the Call-ID itself.
 */
#define MAP_CALLID_TOKEN	128
int		 map_thread_to_callid(const char *, char *, size_t);
/* the reason phrase for a SIP status code ("Not Found") */
const char	*map_sip_reason(int);
/*
 * Is this one language tag, as xml:lang and Content-Language both
 * carry it (RFC 5646 shape: subtags of 1 to 8 letters or digits joined
 * by "-", the first of letters)?  What is not is not carried.
 */
int		 map_lang_ok(const char *);

/* A <message/> from a partner's user to a local user, as a SIP MESSAGE */
struct map_message {
	/* from the stanza; the strings other than from and to may be NULL */
	const char	*from;		/* full JID: From, its resource a GRUU */
	const char	*to;		/* JID: its bare part is the Request-URI */
	const char	*thread;	/* the Call-ID, if it can be one */
	const char	*subject;
	const char	*lang;		/* Content-Language, if one tag */
	const char	*body;
	/* what the transaction adds */
	const char	*transport;	/* "TCP" or "TLS" */
	const char	*sent_by;	/* host:port of the Via */
	const char	*branch;
	const char	*callid;	/* if the thread gives none */
	uint32_t	 tag;		/* of From */
	uint32_t	 cseq;
};
/*
 * Append the request (RFC 3428, RFC 7572) to b: headers Via,
 * Max-Forwards, From, To, Call-ID, CSeq, Subject (if any),
 * Content-Language (if one tag), Content-Type text/plain, Content-Length,
 * and the body.  Control characters other than TAB are dropped from the
 * subject: nothing from the stanza can end a header line or make the
 * proxy refuse it.  -1, b untouched, if an address cannot be mapped.
 */
int		 map_message(struct xbuf *, const struct map_message *);

#endif /* MAP_H */
