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
 * RFC 7247 address and error mappings.  Both address directions are
 * built so that a JID made from a SIP URI maps back to a URI that gives
 * the same JID again: the SIP user part is %-decoded and then XEP-0106
 * escaped, and the way back undoes exactly that.  Domains are plain DNS
 * names (A-labels); IDN conversion is not done here, so a U-label JID
 * domain is refused rather than mapped to something else.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "map.h"
#include "xml.h"

#define PART_MAX	1023	/* RFC 7622: localpart, resourcepart */
#define DNSNAME_MAX	253	/* RFC 1035, without the root dot */
#define LABEL_MAX	63

/* output with one overflow flag, checked once at the end */
struct obuf {
	char	*p;
	size_t	 size;
	size_t	 len;
	int	 full;
};

/*
 * XEP-0106: the characters an XMPP localpart cannot hold and their
 * escapes.  Only these ten sequences are escapes; any other backslash
 * is an ordinary character.
 */
static const struct {
	char		 c;
	const char	*hex;
} xep106[] = {
	{ ' ', "20" }, { '"', "22" }, { '&', "26" }, { '\'', "27" },
	{ '/', "2f" }, { ':', "3a" }, { '<', "3c" }, { '>', "3e" },
	{ '@', "40" }, { '\\', "5c" }
};

static void	 ob_init(struct obuf *, char *, size_t);
static void	 ob_putc(struct obuf *, char);
static void	 ob_putn(struct obuf *, const char *, size_t);
static int	 ob_done(struct obuf *);
static int	 text_ok(const char *, size_t);
static int	 dnsname_ok(const char *, size_t);
static int	 xep106_unesc(const char *, size_t);
static int	 is_unreserved(unsigned char);
static int	 is_user(unsigned char);
static int	 is_user_raw(unsigned char);
static int	 is_param(unsigned char);
static void	 pct_encode(struct obuf *, const char *, size_t,
		    int (*)(unsigned char));
static int	 hexval(unsigned char);
static ssize_t	 pct_decode(const char *, size_t, int (*)(unsigned char),
		    char *, size_t);

static void
ob_init(struct obuf *ob, char *p, size_t size)
{
	ob->p = p;
	ob->size = size;
	ob->len = 0;
	ob->full = 0;
	if (size > 0)
		p[0] = '\0';
}

static void
ob_putc(struct obuf *ob, char c)
{
	/* keep one byte for the NUL */
	if (ob->full || ob->len + 1 >= ob->size) {
		ob->full = 1;
		return;
	}
	ob->p[ob->len++] = c;
}

static void
ob_putn(struct obuf *ob, const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		ob_putc(ob, s[i]);
}

/* NUL-terminate; a truncated address is refused, never returned */
static int
ob_done(struct obuf *ob)
{
	if (ob->size == 0)
		return (-1);
	if (ob->full) {
		ob->p[0] = '\0';
		return (-1);
	}
	ob->p[ob->len] = '\0';
	return (0);
}

/*
 * Well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) without C0, DEL or C1 controls and without noncharacters:
 * none of these belongs in an address, a CR or LF would end up in a SIP
 * header line, and U+FFFE and U+FFFF are not XML 1.0 characters (an
 * address holding one could not be written, or would be written as
 * another address with it left out).
 */
static int
text_ok(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n, k;
	unsigned int		 cp, min;

	for (i = 0; i < len; i += n) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] == 0x7f)
				return (0);
			n = 1;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return (0);
		if (n > len - i)
			return (0);
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f ||
		    (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe)
			return (0);
	}
	return (1);
}

/*
 * An RFC 3261 hostname: labels of letters, digits and inner hyphens,
 * and a last label that starts with a letter.  That last rule is what
 * tells a name from an IPv4 literal, which is no XMPP domain.  IPv6
 * literals fail on the '['.
 */
static int
dnsname_ok(const char *s, size_t len)
{
	size_t	 i, start = 0;

	if (len == 0 || len > DNSNAME_MAX)
		return (0);
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!((s[i] >= 'a' && s[i] <= 'z') ||
			    (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
				return (0);
			continue;
		}
		/* a label is [start, i) */
		if (i == start || i - start > LABEL_MAX ||
		    s[start] == '-' || s[i - 1] == '-')
			return (0);
		if (i == len && s[start] >= '0' && s[start] <= '9')
			return (0);
		start = i + 1;
	}
	return (1);
}

/* the character "\hh" at s stands for, or -1 if it is no XEP-0106 escape */
static int
xep106_unesc(const char *s, size_t left)
{
	size_t	 i;

	if (left < 3 || s[0] != '\\')
		return (-1);
	/* the XEP defines the lower-case forms only; "\2F" stays as it is */
	for (i = 0; i < sizeof(xep106) / sizeof(xep106[0]); i++)
		if (s[1] == xep106[i].hex[0] && s[2] == xep106[i].hex[1])
			return ((unsigned char)xep106[i].c);
	return (-1);
}

/* RFC 3261 unreserved = alphanum / mark */
static int
is_unreserved(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("-_.!~*'()", c) != NULL));
}

/*
 * RFC 3261 user = unreserved / user-unreserved, less ';' '?' '/': they
 * are legal there but a reader would take ';' for the start of the
 * parameters and '?' for the headers, so we always escape them.
 */
static int
is_user(unsigned char c)
{
	return (is_unreserved(c) || (c != '\0' && strchr("&=+$,", c) != NULL));
}

/* what a received user part may hold unescaped ('?' is refused before) */
static int
is_user_raw(unsigned char c)
{
	return (is_user(c) || c == ';' || c == '/');
}

/* RFC 3261 paramchar = param-unreserved / unreserved */
static int
is_param(unsigned char c)
{
	return (is_unreserved(c) ||
	    (c != '\0' && strchr("[]/:&+$", c) != NULL));
}

static void
pct_encode(struct obuf *ob, const char *s, size_t len,
    int (*keep)(unsigned char))
{
	static const char	 digits[] = "0123456789ABCDEF";
	unsigned char		 c;
	size_t			 i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (keep(c)) {
			ob_putc(ob, (char)c);
			continue;
		}
		ob_putc(ob, '%');
		ob_putc(ob, digits[c >> 4]);
		ob_putc(ob, digits[c & 0x0f]);
	}
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Decode s[0..len) into dst (not NUL-terminated): every raw byte must
 * be one that ok() allows, every '%' start a valid escape; %00 is
 * refused since it would cut the address short further on.
 */
static ssize_t
pct_decode(const char *s, size_t len, int (*ok)(unsigned char),
    char *dst, size_t dstsize)
{
	size_t	 i, n = 0;
	int	 hi, lo;
	char	 c;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3 ||
			    (hi = hexval((unsigned char)s[i + 1])) == -1 ||
			    (lo = hexval((unsigned char)s[i + 2])) == -1 ||
			    (hi == 0 && lo == 0))
				return (-1);
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (ok((unsigned char)s[i]))
			c = s[i];
		else
			return (-1);
		if (n >= dstsize)
			return (-1);
		dst[n++] = c;
	}
	return ((ssize_t)n);
}

int
map_jid_to_sip(const char *jid, char *out, size_t outlen)
{
	struct obuf	 ob;
	const char	*at, *dom, *slash, *res = NULL;
	size_t		 i, loclen, domlen, reslen = 0;
	int		 c;
	char		 ch;

	ob_init(&ob, out, outlen);
	if (jid == NULL || !text_ok(jid, strlen(jid)))
		return (-1);
	/* RFC 7622: the resource starts at the first '/', and may hold '@' */
	if ((slash = strchr(jid, '/')) != NULL) {
		res = slash + 1;
		reslen = strlen(res);
		if (reslen == 0 || reslen > PART_MAX)
			return (-1);
	} else
		slash = jid + strlen(jid);
	if ((at = memchr(jid, '@', slash - jid)) == NULL)
		return (-1);
	loclen = at - jid;
	dom = at + 1;
	domlen = slash - dom;
	if (loclen == 0 || loclen > PART_MAX || !dnsname_ok(dom, domlen))
		return (-1);

	ob_putn(&ob, "sip:", 4);
	for (i = 0; i < loclen; i++) {
		/* unescape first, so that \40 becomes %40, not %5C40 */
		if ((c = xep106_unesc(jid + i, loclen - i)) != -1) {
			ch = (char)c;
			i += 2;
		} else
			ch = jid[i];
		pct_encode(&ob, &ch, 1, is_user);
	}
	ob_putc(&ob, '@');
	for (i = 0; i < domlen; i++)
		ob_putc(&ob, (char)tolower((unsigned char)dom[i]));
	if (res != NULL) {
		ob_putn(&ob, ";gr=", 4);
		pct_encode(&ob, res, reslen, is_param);
	}
	return (ob_done(&ob));
}

int
map_sip_to_jid(const char *uri, char *out, size_t outlen)
{
	struct obuf	 ob;
	char		 user[PART_MAX], res[PART_MAX];
	const char	*p, *at, *host, *end, *param, *next, *eq;
	const char	*gr = NULL;
	size_t		 i, j, hostlen, grlen = 0, namelen, len;
	ssize_t		 ulen, rlen = -1;
	int		 esc;

	ob_init(&ob, out, outlen);
	if (uri == NULL)
		return (-1);
	/* a URI is visible ASCII; UTF-8 travels %-escaped */
	for (p = uri; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return (-1);
	if (strncasecmp(uri, "sip:", 4) == 0)
		p = uri + 4;
	else if (strncasecmp(uri, "sips:", 5) == 0)
		p = uri + 5;
	else
		return (-1);
	/* headers would be lost; '?' unescaped in the user part likewise */
	if (strchr(p, '?') != NULL)
		return (-1);
	/* the user part cannot hold '@' raw, so the first '@' ends it */
	if ((at = strchr(p, '@')) == NULL || at == p)
		return (-1);
	/*
	 * ':' in the userinfo starts a password, refused by is_user_raw().
	 * The case of the user part is kept: SIP user parts are case-
	 * sensitive (RFC 3261 19.1.4), and folding here would merge users
	 * that the SIP side tells apart; the XMPP server case-maps if it
	 * wants to (PRECIS UsernameCaseMapped).
	 */
	if ((ulen = pct_decode(p, at - p, is_user_raw, user,
	    sizeof(user))) <= 0 || !text_ok(user, ulen))
		return (-1);

	host = at + 1;
	end = strchr(host, ';');
	hostlen = end != NULL ? (size_t)(end - host) : strlen(host);
	/* a port has no place in a JID, and "host:port" fails here */
	if (!dnsname_ok(host, hostlen))
		return (-1);

	/* parameters: RFC 7247 keeps only "gr", names are case-insensitive */
	for (param = end; param != NULL; param = next) {
		param++;
		next = strchr(param, ';');
		len = next != NULL ? (size_t)(next - param) : strlen(param);
		eq = memchr(param, '=', len);
		namelen = eq != NULL ? (size_t)(eq - param) : len;
		if (namelen == 0)
			return (-1);
		for (i = 0; i < len; i++)
			if (param + i != eq && param[i] != '%' &&
			    !is_param((unsigned char)param[i]))
				return (-1);
		if (namelen != 2 || strncasecmp(param, "gr", 2) != 0)
			continue;
		/* two instance ids: we cannot tell which one is meant */
		if (gr != NULL)
			return (-1);
		gr = param;
		/* a bare ";gr" (a temporary GRUU) names no instance */
		if (eq == NULL)
			continue;
		gr = eq + 1;
		grlen = len - namelen - 1;
		if ((rlen = pct_decode(gr, grlen, is_param, res,
		    sizeof(res))) <= 0 || !text_ok(res, rlen))
			return (-1);
	}

	/* XEP-0106-escape what a localpart cannot hold */
	for (i = 0; i < (size_t)ulen; i++) {
		esc = -1;
		for (j = 0; j < sizeof(xep106) / sizeof(xep106[0]); j++)
			if (user[i] == xep106[j].c)
				esc = (int)j;
		/*
		 * XEP-0106 escapes a backslash only where it would read as
		 * an escape: "c:\net" is "c\3a\net", "a\5cb" is "a\5c5cb".
		 */
		if (user[i] == '\\' &&
		    xep106_unesc(user + i, (size_t)ulen - i) == -1)
			esc = -1;
		if (esc == -1) {
			ob_putc(&ob, user[i]);
			continue;
		}
		ob_putc(&ob, '\\');
		ob_putn(&ob, xep106[esc].hex, 2);
	}
	/* the escaped localpart must still fit a JID's */
	if (ob.len > PART_MAX) {
		ob.full = 1;	/* refused: what was written goes */
		return (ob_done(&ob));
	}
	ob_putc(&ob, '@');
	for (i = 0; i < hostlen; i++)
		ob_putc(&ob, (char)tolower((unsigned char)host[i]));
	if (rlen > 0) {
		ob_putc(&ob, '/');
		ob_putn(&ob, res, rlen);
	}
	return (ob_done(&ob));
}

/*
 * RFC 7247 SIP response -> stanza error.  Where the reference lists a
 * Kamailio alternative ("K: x") the RFC's value, the first, is taken.
 * 402 is bad-request: payment-required is no RFC 6120 condition.
 */
static const struct {
	int		 code;
	const char	*cond;
} sip2xmpp[] = {
	{ 300, "redirect" }, { 301, "gone" }, { 302, "redirect" },
	{ 305, "redirect" }, { 380, "not-acceptable" }, { 400, "bad-request" },
	{ 401, "not-authorized" }, { 402, "bad-request" },
	{ 403, "forbidden" }, { 404, "item-not-found" },
	{ 405, "not-allowed" }, { 406, "not-acceptable" },
	{ 407, "registration-required" }, { 408, "remote-server-timeout" },
	{ 410, "gone" }, { 413, "policy-violation" },
	{ 414, "policy-violation" }, { 415, "bad-request" },
	{ 416, "bad-request" }, { 420, "bad-request" }, { 421, "bad-request" },
	{ 423, "bad-request" }, { 480, "recipient-unavailable" },
	{ 481, "item-not-found" }, { 482, "not-acceptable" },
	{ 483, "not-acceptable" }, { 484, "item-not-found" },
	{ 485, "item-not-found" }, { 486, "recipient-unavailable" },
	{ 487, "service-unavailable" }, { 488, "not-acceptable" },
	{ 491, "unexpected-request" }, { 493, "bad-request" },
	{ 500, "internal-server-error" }, { 501, "feature-not-implemented" },
	{ 502, "remote-server-not-found" }, { 503, "service-unavailable" },
	{ 504, "remote-server-timeout" }, { 505, "not-acceptable" },
	{ 513, "policy-violation" }, { 600, "service-unavailable" },
	{ 603, "service-unavailable" }, { 604, "item-not-found" },
	{ 606, "not-acceptable" }
};

/*
 * RFC 7247 stanza error -> SIP response.  Where the reference offers
 * two codes the first is taken, except: feature-not-implemented is 501,
 * not 405, since a 405 must carry an Allow header (RFC 3261 21.4.6) we
 * could not fill truthfully; gone is 410, since 301 is for when the new
 * address is known and a stanza error does not give us one we map.
 */
static const struct {
	const char	*cond;
	int		 code;
} xmpp2sip[] = {
	{ "bad-request", 400 }, { "conflict", 400 },
	{ "feature-not-implemented", 501 }, { "forbidden", 403 },
	{ "gone", 410 }, { "internal-server-error", 500 },
	{ "item-not-found", 404 }, { "jid-malformed", 400 },
	{ "not-acceptable", 406 }, { "not-allowed", 405 },
	{ "not-authorized", 401 }, { "policy-violation", 403 },
	{ "recipient-unavailable", 480 }, { "redirect", 302 },
	{ "registration-required", 400 }, { "remote-server-not-found", 404 },
	{ "remote-server-timeout", 408 }, { "resource-constraint", 500 },
	{ "service-unavailable", 503 }, { "subscription-required", 400 },
	{ "undefined-condition", 400 }, { "unexpected-request", 491 }
};

static const struct {
	int		 code;
	const char	*reason;
} reasons[] = {
	{ 100, "Trying" }, { 180, "Ringing" },
	{ 181, "Call Is Being Forwarded" }, { 182, "Queued" },
	{ 183, "Session Progress" }, { 200, "OK" }, { 202, "Accepted" },
	{ 300, "Multiple Choices" }, { 301, "Moved Permanently" },
	{ 302, "Moved Temporarily" }, { 305, "Use Proxy" },
	{ 380, "Alternative Service" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" }, { 402, "Payment Required" },
	{ 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
	{ 407, "Proxy Authentication Required" }, { 408, "Request Timeout" },
	{ 410, "Gone" }, { 412, "Conditional Request Failed" },
	{ 413, "Request Entity Too Large" }, { 414, "Request-URI Too Long" },
	{ 415, "Unsupported Media Type" }, { 416, "Unsupported URI Scheme" },
	{ 420, "Bad Extension" }, { 421, "Extension Required" },
	{ 423, "Interval Too Brief" }, { 480, "Temporarily Unavailable" },
	{ 481, "Call/Transaction Does Not Exist" }, { 482, "Loop Detected" },
	{ 483, "Too Many Hops" }, { 484, "Address Incomplete" },
	{ 485, "Ambiguous" }, { 486, "Busy Here" },
	{ 487, "Request Terminated" }, { 488, "Not Acceptable Here" },
	{ 489, "Bad Event" }, { 491, "Request Pending" },
	{ 493, "Undecipherable" }, { 500, "Server Internal Error" },
	{ 501, "Not Implemented" }, { 502, "Bad Gateway" },
	{ 503, "Service Unavailable" }, { 504, "Server Time-out" },
	{ 505, "Version Not Supported" }, { 513, "Message Too Large" },
	{ 600, "Busy Everywhere" }, { 603, "Decline" },
	{ 604, "Does Not Exist Anywhere" }, { 606, "Not Acceptable" }
};

/*
 * A code not in the table is taken as the x00 of its class, as RFC
 * 3261 8.1.3.2 tells a UAC to do with a response it does not know:
 * unknown 3xx is redirect, 4xx bad-request, 5xx internal-server-error,
 * 6xx service-unavailable.  (Kamailio's catch-all not-acceptable would
 * claim a media problem there was none.)  A code that is no error at
 * all is a caller's mistake; it still gets a condition, never NULL.
 */
const char *
map_sip_to_xmpp_error(int code)
{
	size_t	 i;

	if (code < 300 || code > 699)
		return ("undefined-condition");
	for (i = 0; i < sizeof(sip2xmpp) / sizeof(sip2xmpp[0]); i++)
		if (sip2xmpp[i].code == code)
			return (sip2xmpp[i].cond);
	return (map_sip_to_xmpp_error(code - code % 100));
}

/* an unknown condition is our failure to understand: 500 */
int
map_xmpp_error_to_sip(const char *cond)
{
	size_t	 i;

	if (cond == NULL)
		return (500);
	for (i = 0; i < sizeof(xmpp2sip) / sizeof(xmpp2sip[0]); i++)
		if (strcmp(xmpp2sip[i].cond, cond) == 0)
			return (xmpp2sip[i].code);
	return (500);
}

const char *
map_sip_reason(int code)
{
	size_t	 i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return (reasons[i].reason);
	return ("Unknown");
}

/* RFC 3261 "word" characters we let through unchanged */
static int
is_callid(unsigned char c)
{
	return (isalnum(c) || strchr("-.!%*_+`'~", c) != NULL);
}

/*
 * RFC 7572: <thread/> <-> Call-ID.  A thread that is a plain token of
 * 1..MAP_CALLID_TOKEN characters (with at most one inner '@') is the
 * Call-ID as it is, so it comes back unchanged; any other thread gives
 * "t-" and 32 hex digits of two FNV-1a hashes: the same thread always
 * gives the same Call-ID, which is what a SIP client needs to keep a
 * conversation together.  0 or -1 (no room).
 */
int
map_thread_to_callid(const char *thread, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)thread;
	uint64_t		 h1 = 0xcbf29ce484222325ULL;
	uint64_t		 h2 = 0x84222325cbf29ce4ULL;
	size_t			 len = strlen(thread), i, at = 0;
	int			 plain = len > 0 && len <= MAP_CALLID_TOKEN;

	for (i = 0; plain && i < len; i++) {
		if (p[i] == '@' && i > 0 && i + 1 < len && at++ == 0)
			continue;
		if (!is_callid(p[i]))
			plain = 0;
	}
	if (plain) {
		if (len >= outlen)
			return (-1);
		memcpy(out, thread, len + 1);
		return (0);
	}
	for (i = 0; i < len; i++) {
		h1 = (h1 ^ p[i]) * 0x100000001b3ULL;
		h2 = (h2 ^ p[len - 1 - i]) * 0x100000001b3ULL;
	}
	if (outlen < 35)
		return (-1);
	snprintf(out, outlen, "t-%016llx%016llx", (unsigned long long)h1,
	    (unsigned long long)h2);
	return (0);
}

int
map_lang_ok(const char *lang)
{
	const char	*p;
	size_t		 n = 0;
	int		 first = 1;

	for (p = lang; ; p++) {
		if (*p == '-' || *p == '\0') {
			if (n == 0)
				return (0);
			if (*p == '\0')
				return (1);
			n = 0;
			first = 0;
			continue;
		}
		if (!(isalpha((unsigned char)*p) ||
		    (!first && isdigit((unsigned char)*p))) || ++n > 8)
			return (0);
	}
}

/*
 * One header line.  Of the value, control characters are dropped (all
 * but TAB, RFC 3261 TEXT-UTF8): CR and LF would end the line, and a
 * proxy refuses the others, though XML carries DEL.
 */
static void
map_header(struct xbuf *b, const char *name, const char *value)
{
	const unsigned char	*p, *q;

	xbuf_cat(b, name, ": ", (char *)NULL);
	for (p = (const unsigned char *)value; *p != '\0'; p = q) {
		for (q = p; *q != '\0' && (*q >= 0x20 || *q == '\t') &&
		    *q != 0x7f; q++)
			;
		xbuf_add(b, p, q - p);
		if (*q != '\0')
			q++;
	}
	xbuf_add(b, "\r\n", 2);
}

int
map_message(struct xbuf *b, const struct map_message *m)
{
	char		 from[2048], to[2048], bare[2048];
	char		 callid[MAP_CALLID_TOKEN + 1], tag[9], num[11];
	size_t		 blen, n;

	/* the request goes to the user's address of record */
	if ((n = strcspn(m->to, "/")) >= sizeof(bare))
		return (-1);
	memcpy(bare, m->to, n);
	bare[n] = '\0';
	if (map_jid_to_sip(m->from, from, sizeof(from)) == -1 ||
	    map_jid_to_sip(bare, to, sizeof(to)) == -1)
		return (-1);
	/* RFC 7572: the thread is the Call-ID, a conversation keeps one */
	if (m->thread == NULL || m->thread[0] == '\0' ||
	    map_thread_to_callid(m->thread, callid, sizeof(callid)) == -1)
		(void)strlcpy(callid, m->callid, sizeof(callid));
	blen = m->body != NULL ? strlen(m->body) : 0;
	if (blen > UINT32_MAX)
		return (-1);
	xbuf_cat(b, "MESSAGE ", to, " SIP/2.0\r\nVia: SIP/2.0/", m->transport,
	    " ", m->sent_by, ";branch=", m->branch,
	    "\r\nMax-Forwards: 70\r\nFrom: <", from, ">;tag=",
	    u32_hex(tag, m->tag), "\r\nTo: <", to, ">\r\nCall-ID: ", callid,
	    "\r\nCSeq: ", u32_dec(num, m->cseq), " MESSAGE\r\n", (char *)NULL);
	if (m->subject != NULL)
		map_header(b, "Subject", m->subject);
	if (m->lang != NULL && map_lang_ok(m->lang))
		map_header(b, "Content-Language", m->lang);
	xbuf_cat(b, "Content-Type: text/plain;charset=UTF-8\r\n"
	    "Content-Length: ", u32_dec(num, blen), "\r\n\r\n", (char *)NULL);
	if (blen)
		xbuf_add(b, m->body, blen);
	return (0);
}
