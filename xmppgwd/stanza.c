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

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xmppgwd.h"
#include "stanza.h"

static const struct {
	const char	*cond;
	const char	*type;
} stanza_errors[] = {
	/* RFC 6120 section 8.3.3, the type each condition usually has */
	{ "bad-request",		"modify" },
	{ "conflict",			"cancel" },
	{ "feature-not-implemented",	"cancel" },
	{ "forbidden",			"auth" },
	{ "gone",			"cancel" },
	{ "internal-server-error",	"cancel" },
	{ "item-not-found",		"cancel" },
	{ "jid-malformed",		"modify" },
	{ "not-acceptable",		"modify" },
	{ "not-allowed",		"cancel" },
	{ "not-authorized",		"auth" },
	{ "policy-violation",		"modify" },
	{ "recipient-unavailable",	"wait" },
	{ "redirect",			"modify" },
	{ "registration-required",	"auth" },
	{ "remote-server-not-found",	"cancel" },
	{ "remote-server-timeout",	"wait" },
	{ "resource-constraint",	"wait" },
	{ "service-unavailable",	"cancel" },
	{ "subscription-required",	"auth" },
	{ "undefined-condition",	"cancel" },
	{ "unexpected-request",		"wait" }
};

const char *
stanza_error_type(const char *cond)
{
	size_t	 i;

	for (i = 0; i < nitems(stanza_errors); i++)
		if (strcmp(stanza_errors[i].cond, cond) == 0)
			return (stanza_errors[i].type);
	return (NULL);
}

/*
 * The domain part of a JID, lower case; NULL if it has none.  The
 * localpart ends at the first '@' before the first '/' (RFC 7622): an
 * '@' in the resource does not make a domain.
 */
const char *
jid_domain(const char *jid, char *buf, size_t len)
{
	const char	*p, *end, *at;
	size_t		 n, i;

	if ((end = strchr(jid, '/')) == NULL)
		end = jid + strlen(jid);
	if ((at = memchr(jid, '@', end - jid)) != NULL)
		p = at + 1;
	else
		p = jid;
	n = end - p;
	if (n == 0 || n >= len)
		return (NULL);
	for (i = 0; i < n; i++)
		buf[i] = (p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i];
	buf[n] = '\0';
	if (!domain_name_valid(buf))
		return (NULL);
	return (buf);
}

/*
 * "User@Domain/resource" -> "user@domain": the bare JID, lower case
 * (ASCII), with a non-empty localpart that holds no space, control
 * character or one of "&'/:<>@ (RFC 7622 / XEP-0106).  NULL if it is
 * not such a JID or does not fit.
 */
const char *
jid_bare(const char *jid, char *buf, size_t len)
{
	char		 d[XGW_NAME_MAX];
	const char	*at, *end;
	size_t		 n, i;

	if ((end = strchr(jid, '/')) == NULL)
		end = jid + strlen(jid);
	if ((at = memchr(jid, '@', end - jid)) == NULL || at == jid ||
	    jid_domain(jid, d, sizeof(d)) == NULL)
		return (NULL);
	n = at - jid;
	if (n + 1 + strlen(d) + 1 > len || n > 1023)
		return (NULL);
	for (i = 0; i < n; i++) {
		unsigned char c = jid[i];

		if (c <= 0x20 || c == 0x7f || strchr("\"&'/:<>@", c) != NULL)
			return (NULL);
		buf[i] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
	}
	buf[n] = '@';
	memcpy(buf + n + 1, d, strlen(d) + 1);
	return (buf);
}

static int
stanza_copy(char *dst, size_t len, const char *src)
{
	if (src == NULL) {
		dst[0] = '\0';
		return (0);
	}
	if (strlcpy(dst, src, len) >= len)
		return (-1);
	return (0);
}

static int
stanza_dup(char **dst, const struct xml_elem *e)
{
	if (e == NULL)
		return (0);
	if ((*dst = strndup(e->text ? e->text : "", e->textlen)) == NULL)
		return (-1);
	return (0);
}

/*
 * Only what we translate is kept: the payloads of a message other than
 * body, subject and thread are not carried (there is nothing to carry
 * them to on the SIP side).  Returns -1 for a stanza we cannot type.
 */
int
stanza_from_xml(struct stanza *s, const struct xml_elem *e)
{
	struct xml_elem	*err, *c;

	stanza_init(s);
	if (!strcmp(e->ns, NS_SERVER) && !strcmp(e->name, "message"))
		s->kind = STANZA_MESSAGE;
	else if (!strcmp(e->ns, NS_SERVER) && !strcmp(e->name, "presence"))
		s->kind = STANZA_PRESENCE;
	else if (!strcmp(e->ns, NS_SERVER) && !strcmp(e->name, "iq"))
		s->kind = STANZA_IQ;
	else
		return (-1);
	if (stanza_copy(s->type, sizeof(s->type), xml_attr_get(e, "type")) ||
	    stanza_copy(s->from, sizeof(s->from), xml_attr_get(e, "from")) ||
	    stanza_copy(s->to, sizeof(s->to), xml_attr_get(e, "to")) ||
	    stanza_copy(s->id, sizeof(s->id), xml_attr_get(e, "id")) ||
	    stanza_copy(s->lang, sizeof(s->lang),
	    xml_attr_get_ns(e, NS_XML, "lang")))
		return (-1);
	if (s->kind == STANZA_MESSAGE) {
		if (stanza_dup(&s->body, xml_child(e, NS_SERVER, "body")) ||
		    stanza_dup(&s->subject,
		    xml_child(e, NS_SERVER, "subject")) ||
		    stanza_dup(&s->thread, xml_child(e, NS_SERVER, "thread")))
			goto fail;
	}
	if (s->kind == STANZA_IQ && strcmp(s->type, "get") == 0 &&
	    xml_child(e, NS_PING, "ping") != NULL)
		s->ping = 1;
	if (strcmp(s->type, "error") == 0 &&
	    (err = xml_child(e, NS_SERVER, "error")) != NULL) {
		stanza_copy(s->err_type, sizeof(s->err_type),
		    xml_attr_get(err, "type"));
		TAILQ_FOREACH(c, &err->children, entry) {
			if (strcmp(c->ns, NS_STANZA_ERR) != 0)
				continue;
			if (strcmp(c->name, "text") == 0) {
				if (s->err_text == NULL &&
				    stanza_dup(&s->err_text, c))
					goto fail;
			} else if (s->err_cond[0] == '\0')
				stanza_copy(s->err_cond, sizeof(s->err_cond),
				    c->name);
		}
	}
	return (0);
 fail:
	stanza_clear(s);
	return (-1);
}

static int
stanza_text_child(struct xml_elem *e, const char *name, const char *text)
{
	struct xml_elem	*c;

	if (text == NULL)
		return (0);
	if ((c = xml_child_add(e, NS_SERVER, name)) == NULL ||
	    xml_text_set(c, text, strlen(text)) == -1)
		return (-1);
	return (0);
}

struct xml_elem *
stanza_to_xml(const struct stanza *s)
{
	static const char *names[] = { "message", "presence", "iq" };
	struct xml_elem	*e, *err, *c;

	if ((e = xml_elem_new(NS_SERVER, names[s->kind])) == NULL)
		return (NULL);
	if ((s->type[0] && xml_attr_set(e, "type", s->type) == -1) ||
	    xml_attr_set(e, "from", s->from) == -1 ||
	    xml_attr_set(e, "to", s->to) == -1 ||
	    (s->id[0] && xml_attr_set(e, "id", s->id) == -1) ||
	    (s->lang[0] && xml_attr_set_ns(e, NS_XML, "lang", s->lang) == -1))
		goto fail;
	if (stanza_text_child(e, "subject", s->subject) == -1 ||
	    stanza_text_child(e, "body", s->body) == -1 ||
	    stanza_text_child(e, "thread", s->thread) == -1)
		goto fail;
	if (s->err_cond[0] != '\0') {
		if ((err = xml_child_add(e, NS_SERVER, "error")) == NULL ||
		    xml_attr_set(err, "type", s->err_type[0] ? s->err_type :
		    "cancel") == -1 ||
		    xml_child_add(err, NS_STANZA_ERR, s->err_cond) == NULL)
			goto fail;
		if (s->err_text != NULL) {
			if ((c = xml_child_add(err, NS_STANZA_ERR, "text"))
			    == NULL ||
			    xml_text_set(c, s->err_text, strlen(s->err_text))
			    == -1)
				goto fail;
		}
	}
	return (e);
 fail:
	xml_free(e);
	return (NULL);
}

int
stanza_make_error(struct stanza *s, const char *cond, const char *type,
    const char *text)
{
	char	 tmp[JID_MAX];

	if (type == NULL && (type = stanza_error_type(cond)) == NULL)
		type = "cancel";
	memcpy(tmp, s->from, sizeof(tmp));
	memcpy(s->from, s->to, sizeof(s->from));
	memcpy(s->to, tmp, sizeof(s->to));
	(void)strlcpy(s->type, "error", sizeof(s->type));
	(void)strlcpy(s->err_cond, cond, sizeof(s->err_cond));
	(void)strlcpy(s->err_type, type, sizeof(s->err_type));
	free(s->err_text);
	s->err_text = NULL;
	/* the payload is not sent back: the error stays small */
	free(s->body);
	free(s->subject);
	s->body = s->subject = NULL;
	if (text != NULL && (s->err_text = strdup(text)) == NULL)
		return (-1);
	s->ping = 0;
	return (0);
}

void
stanza_clear(struct stanza *s)
{
	free(s->body);
	free(s->subject);
	free(s->thread);
	free(s->err_text);
	stanza_init(s);
}

/*
 * Empty strings, no pointers: what memset() to 0 gives, without writing
 * the 6 KB of the address buffers each time a stanza crosses a process.
 */
void
stanza_init(struct stanza *s)
{
	s->kind = STANZA_MESSAGE;	/* 0 */
	s->type[0] = s->from[0] = s->to[0] = s->id[0] = s->lang[0] = '\0';
	s->body = s->subject = s->thread = s->err_text = NULL;
	s->ping = 0;
	s->err_type[0] = s->err_cond[0] = '\0';
}

/* an optional string: u32 0 = absent, else u32 1 and the string */
static int
stanza_add_opt(struct ibuf *b, const char *str)
{
	if (str == NULL)
		return (imsg_add_u32(b, 0));
	if (imsg_add_u32(b, 1) == -1)
		return (-1);
	return (imsg_add_string(b, str));
}

static int
stanza_read_opt(struct imsg_cursor *c, char **dst)
{
	uint32_t	 present, n;

	if (imsg_read_u32(c, &present) == -1 || present > 1)
		return (-1);
	if (!present)
		return (0);
	/* the same u32 length and bytes imsg_add_string() writes */
	if (imsg_read_u32(c, &n) == -1 || n > c->left)
		return (-1);
	if ((*dst = malloc(n + 1)) == NULL)
		return (-1);
	if (imsg_read_bytes(c, *dst, n) == -1 || memchr(*dst, '\0', n))
		return (-1);
	(*dst)[n] = '\0';
	return (0);
}

int
stanza_encode(struct ibuf *b, const struct stanza *s)
{
	if (imsg_add_u32(b, s->kind) == -1 ||
	    imsg_add_string(b, s->type) == -1 ||
	    imsg_add_string(b, s->from) == -1 ||
	    imsg_add_string(b, s->to) == -1 ||
	    imsg_add_string(b, s->id) == -1 ||
	    imsg_add_string(b, s->lang) == -1 ||
	    imsg_add_u32(b, s->ping) == -1 ||
	    imsg_add_string(b, s->err_type) == -1 ||
	    imsg_add_string(b, s->err_cond) == -1 ||
	    stanza_add_opt(b, s->body) == -1 ||
	    stanza_add_opt(b, s->subject) == -1 ||
	    stanza_add_opt(b, s->thread) == -1 ||
	    stanza_add_opt(b, s->err_text) == -1)
		return (-1);
	return (0);
}

int
stanza_decode(struct imsg_cursor *c, struct stanza *s)
{
	uint32_t	 kind, ping;

	stanza_init(s);
	if (imsg_read_u32(c, &kind) == -1 || kind > STANZA_IQ ||
	    imsg_read_string(c, s->type, sizeof(s->type)) == -1 ||
	    imsg_read_string(c, s->from, sizeof(s->from)) == -1 ||
	    imsg_read_string(c, s->to, sizeof(s->to)) == -1 ||
	    imsg_read_string(c, s->id, sizeof(s->id)) == -1 ||
	    imsg_read_string(c, s->lang, sizeof(s->lang)) == -1 ||
	    imsg_read_u32(c, &ping) == -1 || ping > 1 ||
	    imsg_read_string(c, s->err_type, sizeof(s->err_type)) == -1 ||
	    imsg_read_string(c, s->err_cond, sizeof(s->err_cond)) == -1 ||
	    stanza_read_opt(c, &s->body) == -1 ||
	    stanza_read_opt(c, &s->subject) == -1 ||
	    stanza_read_opt(c, &s->thread) == -1 ||
	    stanza_read_opt(c, &s->err_text) == -1) {
		stanza_clear(s);
		errno = EBADMSG;
		return (-1);
	}
	s->kind = kind;
	s->ping = ping;
	return (0);
}
