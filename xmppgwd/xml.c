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
 * The XMPP stream parser over expat, and the canonical writer.
 *
 * Everything a peer sends is hostile until proven otherwise: the parser
 * refuses the whole DTD and entity machinery at its first token (RFC 6120
 * restricted XML), bounds nesting, attributes and the bytes of each
 * top-level element while they arrive, and hands out trees, never bytes.
 * The writer re-serialises those trees so that what we forward is what we
 * understood (no parser differential can smuggle a second stanza through).
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xml.h"

/* cannot occur in an XML name: a name containing it was forged */
#define XML_NSSEP		'\x01'
#define XML_NS_XMLNS		"http://www.w3.org/2000/xmlns/"

/*
 * Input goes to expat in slices of this size so that a size limit trips
 * at most this far past the limit, whatever a single feed holds.
 */
#define XML_FEED_CHUNK		4096

/*
 * Expat (reparse deferral, CVE-2023-52425) may sit on complete tokens
 * until its input doubles, but a peer that sent a stanza waits for the
 * answer: at the end of a feed we make expat parse what it holds.  That
 * re-parses an incomplete token each time, the quadratic work deferral
 * exists to stop, so beyond a few bytes per feed it is paid from a
 * credit earned per byte received.  Work stays linear in the input
 * whatever the chunking; a token split in a few pieces, or a short one
 * in any number, is parsed as soon as it is complete.
 */
#define XML_FLUSH_FREE		1024	/* bytes re-parsed per feed */
#define XML_FLUSH_CREDIT	32	/* more per byte received */

/*
 * As a tree, a stanza of empty elements takes some 45 times its bytes
 * in memory (CVE-2025-59375 is the same in expat); text takes up to 2,
 * a list of items with attributes up to 9.  The tree is capped at this
 * multiple of the stanza size limit.
 */
#define XML_TREE_FACTOR		16
#define XML_MALLOC_OVERHEAD	16	/* per allocation, roughly */

#define XML_DEF_STANZA		(256 * 1024)
#define XML_DEF_DEPTH		32
#define XML_DEF_ATTRS		64

/* expat's own guards, in case a path to expansion remains */
#define XML_AMPLIFICATION	20.0f
#define XML_ACTIVATION		(8ULL * 1024 * 1024)

#ifdef XML_DTD
#define XML_HAVE(f)		1
#else
/*
 * expat.h declares these only under XML_DTD, which it leaves undefined;
 * the alloc tracker (2.7.2) exists in Debian 12's 2.5.0-1+deb12u5 as a
 * backport, behind version macros that still say 2.5.0.  Weak, so that
 * an expat without them links and they are skipped.
 */
extern XML_Bool	XML_SetBillionLaughsAttackProtectionMaximumAmplification(
		    XML_Parser, float) __attribute__((__weak__));
extern XML_Bool	XML_SetBillionLaughsAttackProtectionActivationThreshold(
		    XML_Parser, unsigned long long) __attribute__((__weak__));
extern XML_Bool	XML_SetAllocTrackerMaximumAmplification(XML_Parser,
		    float) __attribute__((__weak__));
extern XML_Bool	XML_SetAllocTrackerActivationThreshold(XML_Parser,
		    unsigned long long) __attribute__((__weak__));
#define XML_HAVE(f)		((f) != NULL)
#endif

/*
 * Reparse deferral (2.6.0) is backported to Debian 12's expat only
 * from 2.5.0-1+deb12u2; an older one is used without it.
 */
extern XML_Bool	XML_SetReparseDeferralEnabled(XML_Parser, XML_Bool)
		    __attribute__((__weak__));

struct xml_frame {
	struct xml_elem		*elem;
	size_t			 textcap;	/* allocated for elem->text */
};

struct xml_stream {
	XML_Parser		 p;
	struct xml_stream_cb	 cb;
	void			*arg;
	struct xml_limits	 lim;
	enum xml_error		 error;
	char			 errstr[128];
	unsigned int		 depth;		/* open elements, stream = 1 */
	unsigned int		 nsdecls;	/* on the element starting */
	struct xml_frame	*frames;	/* open elements below stream */
	size_t			 nframes;	/* depth - 1 */
	size_t			 framecap;
	long long		 fed;		/* bytes given to expat */
	long long		 evstart;	/* the current event */
	long long		 lastev;	/* end of the last event */
	long long		 unit_start;	/* header, stanza or gap */
	unsigned long long	 credit;	/* for re-parsing, in bytes */
	size_t			 treebytes;	/* memory of the stanza tree */
	int			 infeed;
	int			 stopped;
	int			 reset_pending;
	int			 free_pending;
};

static XML_Parser	xml_parser_create(struct xml_stream *);
static int		xml_fail(struct xml_stream *, enum xml_error,
			    const char *, ...)
			    __attribute__((__format__ (printf, 3, 4)));
static int		xml_strings(const char *, size_t, const char *,
			    const char *, char **, char **, char **);

/*
 * Bookkeeping of the stream.
 */

static int
xml_fail(struct xml_stream *s, enum xml_error err, const char *fmt, ...)
{
	va_list	 ap;

	/* the first reason is the one the peer gets */
	if (s->error == XMLE_NONE) {
		s->error = err;
		va_start(ap, fmt);
		/* a truncated log line is still a log line */
		(void)vsnprintf(s->errstr, sizeof(s->errstr), fmt, ap);
		va_end(ap);
	}
	if (s->infeed && s->p != NULL)
		(void)XML_StopParser(s->p, XML_FALSE);
	return (-1);
}

/* expat may still call handlers after a stop: they must do nothing */
static int
xml_stream_idle(struct xml_stream *s)
{
	return (s->error != XMLE_NONE || s->stopped);
}

static void
xml_stream_mark(struct xml_stream *s)
{
	s->evstart = XML_GetCurrentByteIndex(s->p);
	s->lastev = s->evstart + XML_GetCurrentByteCount(s->p);
}

static int
xml_stream_oversize(struct xml_stream *s, long long end)
{
	return ((unsigned long long)(end - s->unit_start) >
	    s->lim.stanza_size);
}

static int
xml_stream_fail_size(struct xml_stream *s)
{
	if (s->depth == 0)
		return (xml_fail(s, XMLE_POLICY,
		    "stream header larger than %zu bytes", s->lim.stanza_size));
	return (xml_fail(s, XMLE_POLICY, "stanza larger than %zu bytes",
	    s->lim.stanza_size));
}

/* charge the stanza tree for memory it is about to take */
static int
xml_stream_charge(struct xml_stream *s, size_t bytes)
{
	size_t	 max;

	if (s->lim.stanza_size > SIZE_MAX / XML_TREE_FACTOR)
		max = SIZE_MAX;
	else
		max = s->lim.stanza_size * XML_TREE_FACTOR;
	if (bytes > max || s->treebytes > max - bytes)
		return (xml_fail(s, XMLE_POLICY,
		    "stanza tree larger than %zu bytes", max));
	s->treebytes += bytes;
	return (0);
}

static size_t
xml_elem_cost(const char *qname, const char **atts, size_t n)
{
	size_t	 cost, i;

	cost = sizeof(struct xml_elem) + strlen(qname) + 2 +
	    3 * XML_MALLOC_OVERHEAD;
	for (i = 0; i < 2 * n; i++)
		cost += strlen(atts[i]) + 2 + XML_MALLOC_OVERHEAD;
	if (n > 0)
		cost += n * (sizeof(struct xml_attr) + XML_MALLOC_OVERHEAD) +
		    XML_MALLOC_OVERHEAD;
	return (cost);
}

static void
xml_stream_drop_tree(struct xml_stream *s)
{
	if (s->nframes > 0)
		xml_free(s->frames[0].elem);
	s->nframes = 0;
}

static int
xml_stream_push(struct xml_stream *s, struct xml_elem *e)
{
	struct xml_frame	*f;
	struct xml_elem		*parent;
	size_t			 cap;

	if (s->nframes == s->framecap) {
		cap = s->framecap > 0 ? s->framecap * 2 : 8;
		f = reallocarray(s->frames, cap, sizeof(*f));
		if (f == NULL)
			return (-1);
		s->frames = f;
		s->framecap = cap;
	}
	if (s->nframes > 0) {
		parent = s->frames[s->nframes - 1].elem;
		e->parent = parent;
		TAILQ_INSERT_TAIL(&parent->children, e, entry);
	}
	s->frames[s->nframes].elem = e;
	s->frames[s->nframes].textcap = 0;
	s->nframes++;
	return (0);
}

/* amortised growth: text may arrive a byte per event */
static int
xml_stream_text(struct xml_stream *s, const char *text, size_t len)
{
	struct xml_frame	*f = &s->frames[s->nframes - 1];
	struct xml_elem		*e = f->elem;
	char			*p;
	size_t			 need, cap;

	if (len > SIZE_MAX - e->textlen - 1)
		return (xml_fail(s, XMLE_NOMEM, "out of memory"));
	need = e->textlen + len + 1;
	if (need > f->textcap) {
		cap = f->textcap > 0 ? f->textcap : 64;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		if (xml_stream_charge(s, cap - f->textcap) == -1)
			return (-1);
		if ((p = realloc(e->text, cap)) == NULL)
			return (xml_fail(s, XMLE_NOMEM, "out of memory"));
		e->text = p;
		f->textcap = cap;
	}
	memcpy(e->text + e->textlen, text, len);
	e->textlen += len;
	e->text[e->textlen] = '\0';
	return (0);
}

/*
 * Trees from expat's names.
 */

static enum xml_error
xml_name_split(const char *qname, const char *value, char **ns,
    char **name, char **valuep)
{
	const char	*sep, *local;

	if ((sep = strchr(qname, XML_NSSEP)) == NULL) {
		sep = qname;
		local = qname;
	} else
		local = sep + 1;
	/* a second separator or a colon: not namespace-well-formed */
	if (*local == '\0' || strchr(local, XML_NSSEP) != NULL ||
	    strchr(local, ':') != NULL)
		return (XMLE_BAD_NS_PREFIX);
	if (xml_strings(qname, sep - qname, local, value, ns, name,
	    valuep) == -1)
		return (XMLE_NOMEM);
	return (XMLE_NONE);
}

/*
 * The namespace (nslen bytes of ns), the local name and, for an
 * attribute, its value, in one allocation: *nsp points at it, and it is
 * what is freed.
 */
static int
xml_strings(const char *ns, size_t nslen, const char *name,
    const char *value, char **nsp, char **namep, char **valuep)
{
	size_t	 namelen = strlen(name) + 1, vlen = 0;
	char	*p;

	if (value != NULL)
		vlen = strlen(value) + 1;
	/* each length is of a string in memory: the sum cannot wrap */
	if ((p = malloc(nslen + 1 + namelen + vlen)) == NULL)
		return (-1);
	memcpy(p, ns, nslen);
	p[nslen] = '\0';
	*nsp = p;
	p += nslen + 1;
	memcpy(p, name, namelen);
	*namep = p;
	if (value != NULL) {
		p += namelen;
		memcpy(p, value, vlen);
		*valuep = p;
	}
	return (0);
}

static enum xml_error
xml_elem_build(const char *qname, const char **atts, size_t n,
    struct xml_elem **ep)
{
	struct xml_elem	*e;
	struct xml_attr	*a;
	enum xml_error	 err;
	size_t		 i;

	*ep = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (XMLE_NOMEM);
	TAILQ_INIT(&e->children);
	if ((err = xml_name_split(qname, NULL, &e->ns, &e->name,
	    NULL)) != XMLE_NONE)
		goto fail;
	if (n > 0 && (e->attrs = calloc(n, sizeof(*e->attrs))) == NULL) {
		err = XMLE_NOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		a = &e->attrs[i];
		err = xml_name_split(atts[2 * i], atts[2 * i + 1], &a->ns,
		    &a->name, &a->value);
		if (err != XMLE_NONE)
			goto fail;
		e->nattrs = i + 1;
	}
	*ep = e;
	return (XMLE_NONE);
 fail:
	xml_free(e);
	return (err);
}

/*
 * Expat handlers.
 */

static void XMLCALL
xml_h_xmldecl(void *arg, const XML_Char *version, const XML_Char *encoding,
    int standalone)
{
	struct xml_stream	*s = arg;

	if (xml_stream_idle(s))
		return;
	xml_stream_mark(s);
	if (version != NULL && strcmp(version, "1.0") != 0)
		xml_fail(s, XMLE_NOT_WELL_FORMED,
		    "XML version %s not supported", version);
	else if (encoding != NULL && strcasecmp(encoding, "UTF-8") != 0)
		xml_fail(s, XMLE_ENCODING, "encoding %s not supported",
		    encoding);
}

static void XMLCALL
xml_h_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int internal)
{
	xml_fail(arg, XMLE_RESTRICTED, "DOCTYPE not allowed");
}

static void XMLCALL
xml_h_entitydecl(void *arg, const XML_Char *name, int param,
    const XML_Char *value, int len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	xml_fail(arg, XMLE_RESTRICTED, "entity declaration not allowed");
}

static void XMLCALL
xml_h_comment(void *arg, const XML_Char *text)
{
	xml_fail(arg, XMLE_RESTRICTED, "comment not allowed");
}

static void XMLCALL
xml_h_pi(void *arg, const XML_Char *target, const XML_Char *data)
{
	xml_fail(arg, XMLE_RESTRICTED, "processing instruction not allowed");
}

static int XMLCALL
xml_h_encoding(void *data, const XML_Char *name, XML_Encoding *info)
{
	return (XML_STATUS_ERROR);
}

/* declarations cost expat as much as attributes: count them as such */
static void XMLCALL
xml_h_nsdecl(void *arg, const XML_Char *prefix, const XML_Char *uri)
{
	struct xml_stream	*s = arg;

	if (s->nsdecls < UINT_MAX)
		s->nsdecls++;
}

static void
xml_stream_header(struct xml_stream *s, struct xml_elem *e)
{
	if (!xml_is(e, NS_STREAMS, "stream")) {
		xml_fail(s, XMLE_INVALID_NS, "first element is not {%s}stream",
		    NS_STREAMS);
		xml_free(e);
		return;
	}
	s->depth = 1;
	s->unit_start = s->lastev;
	if (s->cb.open != NULL)
		s->cb.open(s->arg, e);
	xml_free(e);
}

static void XMLCALL
xml_h_start(void *arg, const XML_Char *qname, const XML_Char **atts)
{
	struct xml_stream	*s = arg;
	struct xml_elem		*e;
	enum xml_error		 err;
	unsigned int		 nsdecls = s->nsdecls;
	size_t			 n;

	s->nsdecls = 0;
	if (xml_stream_idle(s))
		return;
	xml_stream_mark(s);
	/* before building anything */
	if (s->depth >= s->lim.depth) {
		xml_fail(s, XMLE_POLICY, "nesting deeper than %u",
		    s->lim.depth);
		return;
	}
	for (n = 0; atts[n] != NULL; n += 2)
		;
	n /= 2;
	if (n > s->lim.attrs || nsdecls > s->lim.attrs - n) {
		xml_fail(s, XMLE_POLICY, "more than %u attributes",
		    s->lim.attrs);
		return;
	}
	if (s->depth == 1) {
		s->unit_start = s->evstart;
		s->treebytes = 0;
	}
	if (xml_stream_oversize(s, s->lastev)) {
		xml_stream_fail_size(s);
		return;
	}
	if (s->depth > 0 &&
	    xml_stream_charge(s, xml_elem_cost(qname, atts, n)) == -1)
		return;
	if ((err = xml_elem_build(qname, atts, n, &e)) != XMLE_NONE) {
		xml_fail(s, err, err == XMLE_NOMEM ? "out of memory" :
		    "malformed qualified name");
		return;
	}
	if (s->depth == 0) {
		xml_stream_header(s, e);
		return;
	}
	if (xml_stream_push(s, e) == -1) {
		xml_free(e);
		xml_fail(s, XMLE_NOMEM, "out of memory");
		return;
	}
	s->depth++;
}

static void XMLCALL
xml_h_end(void *arg, const XML_Char *qname)
{
	struct xml_stream	*s = arg;
	struct xml_elem		*e;

	if (xml_stream_idle(s))
		return;
	xml_stream_mark(s);
	if (s->depth == 1) {
		s->depth = 0;
		s->unit_start = s->lastev;
		if (s->cb.close != NULL)
			s->cb.close(s->arg);
		return;
	}
	if (xml_stream_oversize(s, s->lastev)) {
		xml_stream_fail_size(s);
		return;
	}
	s->depth--;
	s->nframes--;
	if (s->depth > 1)
		return;
	/* the tree is the callee's from here on */
	e = s->frames[0].elem;
	s->unit_start = s->lastev;
	if (s->cb.element != NULL)
		s->cb.element(s->arg, e);
	else
		xml_free(e);
}

static void XMLCALL
xml_h_text(void *arg, const XML_Char *text, int len)
{
	struct xml_stream	*s = arg;
	int			 i;

	if (xml_stream_idle(s) || len <= 0)
		return;
	xml_stream_mark(s);
	if (s->depth <= 1) {
		/* RFC 6120 streams carry only whitespace between elements */
		for (i = 0; i < len; i++) {
			if (text[i] != ' ' && text[i] != '\t' &&
			    text[i] != '\r' && text[i] != '\n') {
				xml_fail(s, XMLE_NOT_WELL_FORMED,
				    "line %lu: text outside stanzas",
				    (unsigned long)
				    XML_GetCurrentLineNumber(s->p));
				return;
			}
		}
		s->unit_start = s->lastev;
		return;
	}
	if (xml_stream_oversize(s, s->lastev)) {
		xml_stream_fail_size(s);
		return;
	}
	(void)xml_stream_text(s, text, len);
}

/*
 * The stream.
 */

static XML_Parser
xml_parser_create(struct xml_stream *s)
{
	XML_Parser	 p;

	/*
	 * UTF-8 is forced, so neither an XML declaration nor a byte order
	 * mark nor a byte pattern that looks like UTF-16 switches expat to
	 * another encoding; a declared one is refused in xml_h_xmldecl.
	 */
	if ((p = XML_ParserCreateNS("UTF-8", XML_NSSEP)) == NULL)
		return (NULL);
	if (!XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER)) {
		XML_ParserFree(p);
		return (NULL);
	}
	XML_SetUserData(p, s);
	XML_SetXmlDeclHandler(p, xml_h_xmldecl);
	XML_SetStartDoctypeDeclHandler(p, xml_h_doctype);
	XML_SetEntityDeclHandler(p, xml_h_entitydecl);
	XML_SetCommentHandler(p, xml_h_comment);
	XML_SetProcessingInstructionHandler(p, xml_h_pi);
	XML_SetUnknownEncodingHandler(p, xml_h_encoding, NULL);
	XML_SetStartNamespaceDeclHandler(p, xml_h_nsdecl);
	XML_SetElementHandler(p, xml_h_start, xml_h_end);
	XML_SetCharacterDataHandler(p, xml_h_text);

	/*
	 * Defence in depth only: the handlers above stop every DTD before
	 * expat expands anything.  A false return means the expat build
	 * lacks the feature, which is no reason to refuse peers.
	 */
	if (XML_HAVE(XML_SetBillionLaughsAttackProtectionMaximumAmplification))
		(void)XML_SetBillionLaughsAttackProtectionMaximumAmplification(
		    p, XML_AMPLIFICATION);
	if (XML_HAVE(XML_SetBillionLaughsAttackProtectionActivationThreshold))
		(void)XML_SetBillionLaughsAttackProtectionActivationThreshold(
		    p, XML_ACTIVATION);
	if (XML_HAVE(XML_SetAllocTrackerMaximumAmplification))
		(void)XML_SetAllocTrackerMaximumAmplification(p,
		    XML_AMPLIFICATION);
	if (XML_HAVE(XML_SetAllocTrackerActivationThreshold))
		(void)XML_SetAllocTrackerActivationThreshold(p,
		    XML_ACTIVATION);
	if (XML_SetReparseDeferralEnabled != NULL)
		(void)XML_SetReparseDeferralEnabled(p, XML_TRUE);
	return (p);
}

/*
 * What the expat in use has of the defences xml_parser_create sets: a
 * line for the log, and the number it lacks (0 with an expat that has
 * Debian 12's security fixes up to 2.5.0-1+deb12u5).
 */
int
xml_expat_check(char *buf, size_t len)
{
	int	 lb, at, rd;

	lb = XML_HAVE(XML_SetBillionLaughsAttackProtectionMaximumAmplification)
	    && XML_HAVE(XML_SetBillionLaughsAttackProtectionActivationThreshold);
	at = XML_HAVE(XML_SetAllocTrackerMaximumAmplification) &&
	    XML_HAVE(XML_SetAllocTrackerActivationThreshold);
	rd = XML_SetReparseDeferralEnabled != NULL;
	snprintf(buf, len, "%s: billion laughs protection %s, allocation "
	    "tracker %s, reparse deferral %s", XML_ExpatVersion(),
	    lb ? "yes" : "NO", at ? "yes" : "NO", rd ? "yes" : "NO");
	return (!lb + !at + !rd);
}

static void
xml_stream_limits(struct xml_stream *s, const struct xml_limits *lim)
{
	if (lim != NULL) {
		s->lim = *lim;
		return;
	}
	s->lim.stanza_size = XML_DEF_STANZA;
	s->lim.depth = XML_DEF_DEPTH;
	s->lim.attrs = XML_DEF_ATTRS;
}

struct xml_stream *
xml_stream_new(const struct xml_stream_cb *cb, void *arg,
    const struct xml_limits *lim)
{
	struct xml_stream	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	if (cb != NULL)
		s->cb = *cb;
	s->arg = arg;
	xml_stream_limits(s, lim);
	if ((s->p = xml_parser_create(s)) == NULL) {
		free(s);
		return (NULL);
	}
	return (s);
}

void
xml_stream_set_limits(struct xml_stream *s, const struct xml_limits *lim)
{
	xml_stream_limits(s, lim);
}

static int
xml_stream_expat_error(struct xml_stream *s)
{
	enum XML_Error	 code;
	enum xml_error	 err;
	const char	*ctx;
	int		 off, size;

	code = XML_GetErrorCode(s->p);
	switch (code) {
	case XML_ERROR_INVALID_TOKEN:
	case XML_ERROR_SYNTAX:
		/*
		 * In content expat has no DTD handler to call: a "<!" that
		 * opens neither a comment nor CDATA is a declaration.  Expat
		 * points at the byte after it.
		 */
		ctx = XML_GetInputContext(s->p, &off, &size);
		if (ctx != NULL && off >= 2 && off <= size &&
		    memcmp(ctx + off - 2, "<!", 2) == 0)
			return (xml_fail(s, XMLE_RESTRICTED,
			    "line %lu: DTD not allowed",
			    (unsigned long)XML_GetCurrentLineNumber(s->p)));
		err = XMLE_NOT_WELL_FORMED;
		break;
	case XML_ERROR_NO_MEMORY:
		err = XMLE_NOMEM;
		break;
	case XML_ERROR_UNBOUND_PREFIX:
	case XML_ERROR_UNDECLARING_PREFIX:
	case XML_ERROR_RESERVED_PREFIX_XML:
	case XML_ERROR_RESERVED_PREFIX_XMLNS:
	case XML_ERROR_RESERVED_NAMESPACE_URI:
		err = XMLE_BAD_NS_PREFIX;
		break;
	case XML_ERROR_UNKNOWN_ENCODING:
	case XML_ERROR_INCORRECT_ENCODING:
		err = XMLE_ENCODING;
		break;
	case XML_ERROR_AMPLIFICATION_LIMIT_BREACH:
		err = XMLE_RESTRICTED;
		break;
	default:
		err = XMLE_NOT_WELL_FORMED;
		break;
	}
	return (xml_fail(s, err, "line %lu: %s",
	    (unsigned long)XML_GetCurrentLineNumber(s->p),
	    XML_ErrorString(code)));
}

/* 0: go on, 1: a callback stopped us, -1: error */
static int
xml_stream_parse(struct xml_stream *s, const char *buf, size_t len)
{
	enum XML_Status	 st;

	s->fed += len;
	st = XML_Parse(s->p, buf, (int)len, XML_FALSE);
	if (s->error != XMLE_NONE)
		return (-1);
	if (s->stopped)
		return (1);
	if (st == XML_STATUS_ERROR)
		return (xml_stream_expat_error(s));
	return (0);
}

/* parse what expat has deferred; costs at most the bytes pending */
static int
xml_stream_flush(struct xml_stream *s)
{
	int	 rc;

	if (XML_SetReparseDeferralEnabled == NULL)
		return (0);	/* an expat that never defers */
	(void)XML_SetReparseDeferralEnabled(s->p, XML_FALSE);
	rc = xml_stream_parse(s, "", 0);
	(void)XML_SetReparseDeferralEnabled(s->p, XML_TRUE);
	return (rc);
}

/*
 * A token still incomplete (a huge attribute value, comment, start tag)
 * produces no event, so the size of the unit is checked here as the
 * bytes arrive, not only in the handlers.
 */
static int
xml_stream_check_size(struct xml_stream *s)
{
	int	 rc;

	if (!xml_stream_oversize(s, s->fed))
		return (0);
	/* the unit may have ended in input expat deferred: make sure */
	if (s->fed > s->lastev && (rc = xml_stream_flush(s)) != 0)
		return (rc);
	if (!xml_stream_oversize(s, s->fed))
		return (0);
	return (xml_stream_fail_size(s));
}

/* capped, so that credit saved over hours cannot be spent in a burst */
static void
xml_stream_earn(struct xml_stream *s, size_t len)
{
	unsigned long long	 cap;

	cap = ((unsigned long long)s->lim.stanza_size + XML_FEED_CHUNK) *
	    XML_FLUSH_CREDIT;
	if (s->credit >= cap ||
	    len >= (cap - s->credit) / XML_FLUSH_CREDIT)
		s->credit = cap;
	else
		s->credit += len * XML_FLUSH_CREDIT;
}

/* cheaper to say than to let expat find out byte by byte */
static int
xml_stream_sniff(struct xml_stream *s, const unsigned char *p, size_t len)
{
	if (p[0] == 0x00 || p[0] == 0xfe || p[0] == 0xff ||
	    (len > 1 && p[1] == 0x00))
		return (xml_fail(s, XMLE_ENCODING, "stream not in UTF-8"));
	return (0);
}

int
xml_stream_feed(struct xml_stream *s, const void *buf, size_t len)
{
	const char	*p = buf;
	long long	 tail;
	size_t		 n;
	int		 rc = 0;

	if (s->error != XMLE_NONE)
		return (-1);
	if (s->stopped)
		return (0);
	if (s->fed == 0 && len > 0 && xml_stream_sniff(s, buf, len) == -1)
		return (-1);
	xml_stream_earn(s, len);
	s->infeed = 1;
	while (rc == 0 && len > 0) {
		n = len < XML_FEED_CHUNK ? len : XML_FEED_CHUNK;
		rc = xml_stream_parse(s, p, n);
		p += n;
		len -= n;
		if (rc == 0)
			rc = xml_stream_check_size(s);
	}
	tail = s->fed - s->lastev;
	if (rc == 0 && tail > 0 && tail <= XML_FLUSH_FREE)
		rc = xml_stream_flush(s);
	else if (rc == 0 && tail > 0 && (unsigned long long)tail <= s->credit) {
		s->credit -= tail;
		rc = xml_stream_flush(s);
	}
	s->infeed = 0;

	if (rc == -1)
		xml_stream_drop_tree(s);
	if (s->free_pending)
		xml_stream_free(s);
	else if (s->reset_pending)
		xml_stream_reset(s);
	return (rc == -1 ? -1 : 0);
}

void
xml_stream_stop(struct xml_stream *s)
{
	s->stopped = 1;
	if (s->infeed && s->p != NULL)
		(void)XML_StopParser(s->p, XML_FALSE);
}

static void
xml_stream_clear(struct xml_stream *s)
{
	xml_stream_drop_tree(s);
	if (s->p != NULL)
		XML_ParserFree(s->p);
	s->p = NULL;
	s->error = XMLE_NONE;
	s->errstr[0] = '\0';
	s->depth = s->nsdecls = 0;
	s->fed = s->evstart = s->lastev = s->unit_start = 0;
	s->credit = 0;
	s->treebytes = 0;
	s->stopped = s->reset_pending = s->free_pending = 0;
}

void
xml_stream_reset(struct xml_stream *s)
{
	/* expat is on the stack: finish that feed first */
	if (s->infeed) {
		s->reset_pending = 1;
		xml_stream_stop(s);
		return;
	}
	xml_stream_clear(s);
	if ((s->p = xml_parser_create(s)) == NULL)
		xml_fail(s, XMLE_NOMEM, "out of memory");
}

enum xml_error
xml_stream_error(struct xml_stream *s)
{
	return (s->error);
}

const char *
xml_stream_errstr(struct xml_stream *s)
{
	return (s->errstr[0] != '\0' ? s->errstr : "no error");
}

void
xml_stream_free(struct xml_stream *s)
{
	if (s == NULL)
		return;
	if (s->infeed) {
		s->free_pending = 1;
		xml_stream_stop(s);
		return;
	}
	xml_stream_clear(s);
	free(s->frames);
	free(s);
}

/*
 * Element trees.
 */

struct xml_elem *
xml_elem_new(const char *ns, const char *name)
{
	struct xml_elem	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (NULL);
	TAILQ_INIT(&e->children);
	if (ns == NULL)
		ns = "";
	if (xml_strings(ns, strlen(ns), name, NULL, &e->ns, &e->name,
	    NULL) == -1) {
		free(e);
		return (NULL);
	}
	return (e);
}

int
xml_attr_set(struct xml_elem *e, const char *name, const char *value)
{
	return (xml_attr_set_ns(e, "", name, value));
}

int
xml_attr_set_ns(struct xml_elem *e, const char *ns, const char *name,
    const char *value)
{
	struct xml_attr	*a, n;
	size_t		 i;

	if (xml_strings(ns, strlen(ns), name, value, &n.ns, &n.name,
	    &n.value) == -1)
		return (-1);
	for (i = 0; i < e->nattrs; i++) {
		a = &e->attrs[i];
		if (strcmp(a->ns, ns) == 0 && strcmp(a->name, name) == 0) {
			free(a->ns);
			*a = n;
			return (0);
		}
	}
	a = reallocarray(e->attrs, e->nattrs + 1, sizeof(*a));
	if (a == NULL) {
		free(n.ns);
		return (-1);
	}
	e->attrs = a;
	e->attrs[e->nattrs++] = n;
	return (0);
}

const char *
xml_attr_get_ns(const struct xml_elem *e, const char *ns, const char *name)
{
	size_t	 i;

	for (i = 0; i < e->nattrs; i++)
		if (strcmp(e->attrs[i].ns, ns) == 0 &&
		    strcmp(e->attrs[i].name, name) == 0)
			return (e->attrs[i].value);
	return (NULL);
}

const char *
xml_attr_get(const struct xml_elem *e, const char *name)
{
	return (xml_attr_get_ns(e, "", name));
}

/* a NULL namespace or name matches any */
int
xml_is(const struct xml_elem *e, const char *ns, const char *name)
{
	if (e == NULL)
		return (0);
	if (ns != NULL && strcmp(e->ns, ns) != 0)
		return (0);
	if (name != NULL && strcmp(e->name, name) != 0)
		return (0);
	return (1);
}

struct xml_elem *
xml_child(const struct xml_elem *e, const char *ns, const char *name)
{
	struct xml_elem	*c;

	TAILQ_FOREACH(c, &e->children, entry)
		if (xml_is(c, ns, name))
			return (c);
	return (NULL);
}

struct xml_elem *
xml_child_add(struct xml_elem *parent, const char *ns, const char *name)
{
	struct xml_elem	*e;

	if ((e = xml_elem_new(ns, name)) == NULL)
		return (NULL);
	e->parent = parent;
	TAILQ_INSERT_TAIL(&parent->children, e, entry);
	return (e);
}

int
xml_text_set(struct xml_elem *e, const char *text, size_t len)
{
	char	*p = NULL;

	if (len > 0) {
		if ((p = malloc(len + 1)) == NULL)
			return (-1);
		memcpy(p, text, len);
		p[len] = '\0';
	}
	free(e->text);
	e->text = p;
	e->textlen = len;
	return (0);
}

void
xml_free(struct xml_elem *e)
{
	struct xml_elem	*c;
	size_t		 i;

	if (e == NULL)
		return;
	while ((c = TAILQ_FIRST(&e->children)) != NULL)
		xml_free(c);
	if (e->parent != NULL)
		TAILQ_REMOVE(&e->parent->children, e, entry);
	/* ns holds the name and the value too (xml_strings) */
	for (i = 0; i < e->nattrs; i++)
		free(e->attrs[i].ns);
	free(e->attrs);
	free(e->ns);
	free(e->text);
	free(e);
}

/*
 * Output.
 */

void
xbuf_init(struct xbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
xbuf_free(struct xbuf *b)
{
	free(b->data);
	xbuf_init(b);
}

/* xbuf_printf formats into at least this much room before it measures */
#define XBUF_PRINTF_ROOM	256

/* room for add more bytes and a NUL */
static int
xbuf_grow(struct xbuf *b, size_t add)
{
	char	*p;
	size_t	 need, size;

	if (b->error)
		return (-1);
	if (add >= SIZE_MAX - b->len) {
		b->error = 1;
		return (-1);
	}
	need = b->len + add + 1;
	if (need <= b->size)
		return (0);
	size = b->size > 0 ? b->size : 256;
	while (size < need)
		size = size > SIZE_MAX / 2 ? need : size * 2;
	if ((p = realloc(b->data, size)) == NULL) {
		b->error = 1;
		return (-1);
	}
	b->data = p;
	b->size = size;
	return (0);
}

void
xbuf_add(struct xbuf *b, const void *p, size_t len)
{
	if (xbuf_grow(b, len) == -1)
		return;
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* Appends the strings, up to the NULL that ends the list. */
void
xbuf_cat(struct xbuf *b, ...)
{
	va_list		 ap;
	const char	*s;

	va_start(ap, b);
	while ((s = va_arg(ap, const char *)) != NULL)
		xbuf_add(b, s, strlen(s));
	va_end(ap);
}

/* v as 8 lowercase hex digits ("%08x") in buf[9]; returns buf */
char *
u32_hex(char *buf, uint32_t v)
{
	static const char	 hex[] = "0123456789abcdef";
	int			 i;

	for (i = 7; i >= 0; i--, v >>= 4)
		buf[i] = hex[v & 0xf];
	buf[8] = '\0';
	return (buf);
}

/* v in decimal ("%u") in buf[11]; returns where the digits begin */
char *
u32_dec(char *buf, uint32_t v)
{
	char	*p = buf + 10;

	*p = '\0';
	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v != 0);
	return (p);
}

void
xbuf_printf(struct xbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	/* formatted once into the room there is, again only if too long */
	if (xbuf_grow(b, XBUF_PRINTF_ROOM) == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		b->error = 1;
		return;
	}
	if ((size_t)n >= b->size - b->len) {
		b->data[b->len] = '\0';
		if (xbuf_grow(b, (size_t)n) == -1)
			return;
		va_start(ap, fmt);
		/* sized above: cannot truncate */
		(void)vsnprintf(b->data + b->len, b->size - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* bytes of the XML 1.0 Char in valid UTF-8 at p; 0 if there is none */
static size_t
xml_utf8_char(const unsigned char *p, size_t left)
{
	uint32_t	 c;
	size_t		 i, n;

	if (p[0] < 0x80) {
		if (p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' &&
		    p[0] != '\r')
			return (0);
		return (1);
	}
	if (p[0] < 0xc2)		/* continuation, or overlong */
		return (0);
	else if (p[0] < 0xe0) {
		n = 2;
		c = p[0] & 0x1f;
	} else if (p[0] < 0xf0) {
		n = 3;
		c = p[0] & 0x0f;
	} else if (p[0] < 0xf5) {
		n = 4;
		c = p[0] & 0x07;
	} else
		return (0);
	if (left < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff)
		return (0);
	if ((c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return (0);
	return (n);
}

/*
 * What a reader would normalise away is written as a reference: \r in
 * text (line ends), \t \n \r in attribute values (attribute value
 * normalisation).  What XML 1.0 forbids is dropped: a partner would
 * close the stream on it.
 */
static void
xml_escape(struct xbuf *b, const char *s, size_t len, int attr)
{
	const unsigned char	*p, *end, *run;
	const char		*rep;
	size_t			 n;

	if (len == 0)
		return;
	p = run = (const unsigned char *)s;
	end = p + len;
	while (p < end) {
		rep = NULL;
		n = xml_utf8_char(p, end - p);
		if (n == 1) {
			switch (*p) {
			case '&':
				rep = "&amp;";
				break;
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			case '\'':
				rep = "&apos;";
				break;
			case '"':
				rep = "&quot;";
				break;
			case '\r':
				rep = "&#13;";
				break;
			case '\t':
				rep = attr ? "&#9;" : NULL;
				break;
			case '\n':
				rep = attr ? "&#10;" : NULL;
				break;
			}
		}
		if (n > 0 && rep == NULL) {
			p += n;
			continue;
		}
		xbuf_add(b, run, p - run);
		if (rep != NULL)
			xbuf_add(b, rep, strlen(rep));
		run = ++p;
	}
	xbuf_add(b, run, p - run);
}

void
xbuf_escape(struct xbuf *b, const char *s, size_t len)
{
	xml_escape(b, s, len, 1);
}

static void
xml_write_attrs(struct xbuf *b, const struct xml_elem *e)
{
	const struct xml_attr	*a;
	size_t			 i, j;

	for (i = 0; i < e->nattrs; i++) {
		a = &e->attrs[i];
		if (*a->ns == '\0')
			xbuf_printf(b, " %s='", a->name);
		else if (strcmp(a->ns, NS_XML) == 0)
			xbuf_printf(b, " xml:%s='", a->name);
		else if (strcmp(a->ns, XML_NS_XMLNS) == 0)
			continue;	/* declarations are ours to make */
		else {
			/* the first attribute in a namespace declares it */
			for (j = 0; j < i; j++)
				if (strcmp(e->attrs[j].ns, a->ns) == 0)
					break;
			if (j == i) {
				xbuf_printf(b, " xmlns:ns%zu='", j);
				xbuf_escape(b, a->ns, strlen(a->ns));
				xbuf_add(b, "'", 1);
			}
			xbuf_printf(b, " ns%zu:%s='", j, a->name);
		}
		xbuf_escape(b, a->value, strlen(a->value));
		xbuf_add(b, "'", 1);
	}
}

static void
xml_write_elem(struct xbuf *b, const struct xml_elem *e, const char *scope)
{
	const struct xml_elem	*c;
	const char		*pfx = "", *inner = e->ns;

	/* the stream header binds db:, XML binds xml: (and no xmlns= can) */
	if (strcmp(e->ns, NS_DIALBACK) == 0)
		pfx = "db:";
	else if (strcmp(e->ns, NS_XML) == 0)
		pfx = "xml:";
	if (*pfx != '\0')
		inner = scope;
	xbuf_printf(b, "<%s%s", pfx, e->name);
	if (*pfx == '\0' && strcmp(e->ns, scope) != 0) {
		xbuf_add(b, " xmlns='", 8);
		xbuf_escape(b, e->ns, strlen(e->ns));
		xbuf_add(b, "'", 1);
	}
	xml_write_attrs(b, e);
	if (e->textlen == 0 && TAILQ_EMPTY(&e->children)) {
		xbuf_add(b, "/>", 2);
		return;
	}
	xbuf_add(b, ">", 1);
	xml_escape(b, e->text, e->textlen, 0);
	TAILQ_FOREACH(c, &e->children, entry)
		xml_write_elem(b, c, inner);
	xbuf_printf(b, "</%s%s>", pfx, e->name);
}

void
xml_write(struct xbuf *b, const struct xml_elem *e, const char *default_ns)
{
	xml_write_elem(b, e, default_ns != NULL ? default_ns : "");
}
