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
 * The XMPP stream parser: expat, namespace-aware, with limits on all a
 * peer controls, delivering the stream header and then each complete
 * top-level element (stanza, stream feature, dialback element, ...) as a
 * tree.  And the writer: escaping and canonical serialisation, so that no
 * byte received is ever forwarded as is.
 */

#ifndef XML_H
#define XML_H

#include <sys/queue.h>
#include <stddef.h>

#define NS_STREAMS	"http://etherx.jabber.org/streams"
#define NS_SERVER	"jabber:server"
#define NS_CLIENT	"jabber:client"
#define NS_DIALBACK	"jabber:server:dialback"
#define NS_DB_FEATURE	"urn:xmpp:features:dialback"
#define NS_TLS		"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL		"urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_STREAM_ERR	"urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZA_ERR	"urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_PING		"urn:xmpp:ping"
#define NS_XML		"http://www.w3.org/XML/1998/namespace"

struct xml_attr {
	char			*ns;		/* "" if none */
	char			*name;		/* local name */
	char			*value;
};

struct xml_elem {
	char			*ns;		/* namespace URI, "" if none */
	char			*name;		/* local name */
	struct xml_attr		*attrs;
	size_t			 nattrs;
	char			*text;		/* character data directly in */
	size_t			 textlen;	/* this element, concatenated */
	struct xml_elem		*parent;
	TAILQ_HEAD(, xml_elem)	 children;
	TAILQ_ENTRY(xml_elem)	 entry;
};

struct xml_limits {
	size_t			 stanza_size;	/* bytes of one top-level elem */
	unsigned int		 depth;		/* element nesting, stream = 1 */
	unsigned int		 attrs;		/* attributes per element */
};

/* what a peer did wrong; maps to an RFC 6120 stream error */
enum xml_error {
	XMLE_NONE,
	XMLE_NOT_WELL_FORMED,		/* <not-well-formed/> */
	XMLE_RESTRICTED,		/* <restricted-xml/>: DTD, PI, comment */
	XMLE_POLICY,			/* <policy-violation/>: a limit */
	XMLE_BAD_NS_PREFIX,		/* <bad-namespace-prefix/> */
	XMLE_INVALID_NS,		/* <invalid-namespace/>: stream ns */
	XMLE_ENCODING,			/* <unsupported-encoding/> */
	XMLE_NOMEM			/* <internal-server-error/> */
};

struct xml_stream_cb {
	/* <stream:stream ...>: the header as an element without children */
	void	(*open)(void *, struct xml_elem *);
	/* a complete top-level element; the callee owns it (xml_free) */
	void	(*element)(void *, struct xml_elem *);
	/* </stream:stream> */
	void	(*close)(void *);
};

struct xml_stream;

struct xml_stream *xml_stream_new(const struct xml_stream_cb *, void *,
		    const struct xml_limits *);
/*
 * Parse more input.  0: fine so far (callbacks may have run); -1: the
 * peer broke the rules, see xml_stream_error().  A callback may call
 * xml_stream_stop(): the rest of that input is then discarded, feed
 * returns 0 and the stream must be xml_stream_reset() before more input
 * (STARTTLS and SASL success: RFC 6120 byte accuracy).
 */
int		 xml_stream_feed(struct xml_stream *, const void *, size_t);
void		 xml_stream_stop(struct xml_stream *);
void		 xml_stream_reset(struct xml_stream *);	/* stream restart */
void		 xml_stream_set_limits(struct xml_stream *,
		    const struct xml_limits *);
enum xml_error	 xml_stream_error(struct xml_stream *);
const char	*xml_stream_errstr(struct xml_stream *);	/* for logs */
int		 xml_expat_check(char *, size_t);
void		 xml_stream_free(struct xml_stream *);

/* element trees */
struct xml_elem	*xml_elem_new(const char *, const char *);	/* ns, name */
int		 xml_attr_set(struct xml_elem *, const char *, const char *);
int		 xml_attr_set_ns(struct xml_elem *, const char *, const char *,
		    const char *);			/* ns, name, value */
const char	*xml_attr_get(const struct xml_elem *, const char *);
						/* no-namespace attribute */
const char	*xml_attr_get_ns(const struct xml_elem *, const char *,
		    const char *);
struct xml_elem	*xml_child(const struct xml_elem *, const char *,
		    const char *);		/* first child by ns, name */
struct xml_elem	*xml_child_add(struct xml_elem *, const char *,
		    const char *);
int		 xml_text_set(struct xml_elem *, const char *, size_t);
int		 xml_is(const struct xml_elem *, const char *, const char *);
void		 xml_free(struct xml_elem *);

/* output */
struct xbuf {
	char			*data;
	size_t			 len;
	size_t			 size;
	int			 error;		/* an allocation failed */
};

void		 xbuf_init(struct xbuf *);
void		 xbuf_free(struct xbuf *);
void		 xbuf_add(struct xbuf *, const void *, size_t);
void		 xbuf_cat(struct xbuf *, ...)
		    __attribute__((__sentinel__));
void		 xbuf_printf(struct xbuf *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
char		*u32_hex(char *, uint32_t);
char		*u32_dec(char *, uint32_t);
/* text or attribute value, escaped (&, <, >, ', ") */
void		 xbuf_escape(struct xbuf *, const char *, size_t);
/*
 * An element in canonical form.  Namespaces are declared with xmlns=''
 * where they differ from the parent's (default_ns for the top); the
 * dialback namespace is written with the db: prefix the stream header
 * declares.  Text is escaped; characters not allowed in XML 1.0 are
 * never written.
 */
void		 xml_write(struct xbuf *, const struct xml_elem *,
		    const char *);

#endif /* XML_H */
