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
 * xmppgwctl's output: plain text for people, JSON (-j) for programs,
 * behind one interface so that every command prints both.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xmppgwd.h"
#include "control.h"
#include "output.h"

static int	 json_first;	/* no comma before the next array item */
static int	 text_auth_head;	/* the header is still to be printed */
static int	 json_open;	/* brackets the tail must close: "]}" ... */
static const char *const dir_names[CTL_NDIRS] = { "xmpp_to_sip",
		    "sip_to_xmpp" };

static void
fmt_duration(char *buf, size_t len, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		snprintf(buf, len, "%lldd%02lld:%02lld:%02lld",
		    (long long)(secs / 86400), (long long)(secs % 86400 / 3600),
		    (long long)(secs % 3600 / 60), (long long)(secs % 60));
	else
		snprintf(buf, len, "%02lld:%02lld:%02lld",
		    (long long)(secs / 3600), (long long)(secs % 3600 / 60),
		    (long long)(secs % 60));
}

static void
fmt_time(char *buf, size_t len, int64_t t)
{
	time_t		 tt = t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/* text */

static void
text_head(enum actions a)
{
	if (a == STATUS)
		printf("%-12s %8s %12s %8s\n", "process", "pid", "uptime",
		    "restarts");
	else if (a == SHOW_STREAMS)
		printf("%-4s %-24s %-24s %-22s %-8s %-18s %-9s %s\n", "dir",
		    "local", "remote", "address", "tls", "authentication",
		    "state", "age");
	else if (a == SHOW_AUTHS)
		text_auth_head = 1;	/* with the first row: none on errors */
}

static void
text_proc(const struct ctl_proc *p, time_t now)
{
	char	 name[32], up[32];

	if (strcmp(p->role, "parent") == 0 || strcmp(p->role, "tls") != 0)
		snprintf(name, sizeof(name), "%s", p->role);
	else
		snprintf(name, sizeof(name), "%s[%u]", p->role, p->instance);
	if (p->pid == 0)
		snprintf(up, sizeof(up), "-");
	else
		fmt_duration(up, sizeof(up), now - p->started);
	printf("%-12s %8d %12s %8u\n", name, p->pid, up, p->restarts);
}

static void
text_confinfo(const struct ctl_confinfo *ci, time_t now)
{
	char	 when[64], ago[32];

	fmt_time(when, sizeof(when), ci->loaded);
	fmt_duration(ago, sizeof(ago), now - ci->loaded);
	printf("configuration %s\n", ci->file);
	printf("generation %u, loaded %s (%s ago)\n", ci->generation, when,
	    ago);
	printf("%u partners, %u local domains\n", ci->partners, ci->domains);
}

static void
text_partner(const struct xgw_partner *p)
{
	struct xgw_name	*n;

	printf("partner %s\n", p->name);
	if (p->descr[0] != '\0')
		printf("\tdescription \"%s\"\n", p->descr);
	if (!TAILQ_EMPTY(&p->domains)) {
		printf("\tadditional domains");
		TAILQ_FOREACH(n, &p->domains, entry)
			printf(" %s", n->name);
		printf("\n");
	}
	printf("\ttype %s\n", partner_type_name(p->type));
	printf("\ttls %s\n", partner_neg_name(p->tls));
	printf("\tsasl %s\n", partner_neg_name(p->sasl));
	printf("\tdialback %s\n", p->dialback ? "yes" : "no");
	printf("\tkeepalive %s\n", p->keepalive ? "yes" : "no");
	if (p->connections)
		printf("\tconnections %u\n", p->connections);
	else
		printf("\tconnections default (limits per-partner)\n");
	if (p->proxy[0] != '\0')
		printf("\tproxy %s port %u\n", p->proxy, p->proxy_port);
}

static void
text_stream(const struct ctl_stream *st)
{
	char	 age[32];

	fmt_duration(age, sizeof(age), st->age);
	printf("%-4s %-24s %-24s %-22s %-8s %-18s %-9s %s\n", st->dir,
	    st->local, st->remote[0] ? st->remote : "-",
	    st->addr[0] ? st->addr : "-",
	    st->tls_version[0] ? st->tls_version : "none", st->auth,
	    st->state, age);
	if (st->tls_cipher[0] != '\0')
		printf("     tls[%u] conn %u cipher %s\n", st->instance, st->id,
		    st->tls_cipher);
}

static void
text_row(const char *name, const uint64_t *v)
{
	printf("  %-36s %12llu %12llu\n", name, (unsigned long long)v[0],
	    (unsigned long long)v[1]);
}

static void
text_counters(const struct ctl_counters *c, time_t now)
{
	char	 when[64];
	int	 i;

	fmt_time(when, sizeof(when), c->since);
	printf("messages since %s%-8s %12s %12s\n", when, "",
	    "xmpp->sip", "sip->xmpp");
	text_row("received", c->received);
	text_row("delivered", c->delivered);
	text_row("refused by policy", c->refused);
	text_row("failed", c->failed);
	printf("  %-36s %12u %12u\n", "in flight", c->in_flight[0],
	    c->in_flight[1]);
	printf("errors returned later by partners: %llu\n",
	    (unsigned long long)c->partner_errors);
	printf("authorizations: %u\n", c->authorizations);
	for (i = 0; i < CTL_NDIRS; i++)
		if (c->failed[i])
			break;
	if (i < CTL_NDIRS)
		printf("failures by cause:\n");
}

static void
text_cause(const struct ctl_cause *c)
{
	printf("  %-36s %12llu %s\n", c->cause, (unsigned long long)c->count,
	    c->dir == CTL_XMPP_TO_SIP ? "xmpp->sip" : "sip->xmpp");
}

static void
text_auth(const struct ctl_auth *a)
{
	char	 when[64];

	if (text_auth_head)
		printf("%-32s %-32s %-20s %s\n", "local user", "contact",
		    "since", "source");
	text_auth_head = 0;
	fmt_time(when, sizeof(when), a->created);
	printf("%-32s %-32s %-20s %s\n", a->local, a->remote, when,
	    a->source);
}

static void
text_result(int ok, const char *msg)
{
	printf("%s\n", msg);
}

static void
text_tail(enum actions a)
{
}

static void
text_partner_streams(const struct xgw_partner *p)
{
	text_partner(p);
	printf("\n");
	text_head(SHOW_STREAMS);
}

static void
text_step(const struct ctl_step *st)
{
	printf("%-12s %-8s %s\n", st->step, st->status, st->text);
}

const struct output text_output = {
	text_head, text_proc, text_confinfo, text_partner, text_stream,
	text_counters, text_cause, text_auth, text_result, text_tail,
	text_partner_streams, text_step
};

/* JSON */

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			printf("\\n");
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
json_item(void)
{
	if (!json_first)
		printf(",");
	json_first = 0;
}

static void
json_head(enum actions a)
{
	json_first = 1;
	json_open = 0;
	if (a == STATUS)
		printf("{\"processes\":[");
	else if (a == SHOW_PARTNERS)
		printf("{\"partners\":[");
	else if (a == SHOW_STREAMS)
		printf("{\"streams\":[");
	else if (a == SHOW_AUTHS)
		printf("{\"authorizations\":[");
	else if (a == CHECK_PARTNER)
		printf("{\"steps\":[");
	else
		return;
	json_open = 1;
}

static void
json_dirs(const char *name, const uint64_t *v)
{
	int	 i;

	printf("\"%s\":{", name);
	for (i = 0; i < CTL_NDIRS; i++)
		printf("%s\"%s\":%llu", i ? "," : "", dir_names[i],
		    (unsigned long long)v[i]);
	printf("}");
}

static void
json_counters(const struct ctl_counters *c, time_t now)
{
	char		 when[64];
	uint64_t	 fl[CTL_NDIRS];
	int		 i;

	fmt_time(when, sizeof(when), c->since);
	printf(",\"counters\":{\"since\":\"%s\",", when);
	json_dirs("received", c->received);
	printf(",");
	json_dirs("delivered", c->delivered);
	printf(",");
	json_dirs("refused", c->refused);
	printf(",");
	json_dirs("failed", c->failed);
	for (i = 0; i < CTL_NDIRS; i++)
		fl[i] = c->in_flight[i];
	printf(",");
	json_dirs("in_flight", fl);
	printf(",\"partner_errors\":%llu,\"authorizations\":%u,"
	    "\"failures\":[", (unsigned long long)c->partner_errors,
	    c->authorizations);
	json_first = 1;
	json_open = 2;
}

static void
json_cause(const struct ctl_cause *c)
{
	json_item();
	printf("{\"direction\":\"%s\",\"cause\":", dir_names[c->dir]);
	json_string(c->cause);
	printf(",\"count\":%llu}", (unsigned long long)c->count);
}

static void
json_auth(const struct ctl_auth *a)
{
	char	 when[64];

	fmt_time(when, sizeof(when), a->created);
	json_item();
	printf("{\"user\":");
	json_string(a->local);
	printf(",\"contact\":");
	json_string(a->remote);
	printf(",\"since\":\"%s\",\"source\":", when);
	json_string(a->source);
	printf("}");
}

static void
json_proc(const struct ctl_proc *p, time_t now)
{
	json_item();
	printf("{\"role\":");
	json_string(p->role);
	printf(",\"instance\":%u,\"pid\":%d,\"uptime\":%lld,"
	    "\"restarts\":%u}", p->instance, p->pid,
	    p->pid ? (long long)(now - p->started) : 0LL, p->restarts);
}

static void
json_confinfo(const struct ctl_confinfo *ci, time_t now)
{
	char	 when[64];

	fmt_time(when, sizeof(when), ci->loaded);
	json_open = 0;		/* the processes array ends here */
	printf("],\"config\":{\"file\":");
	json_string(ci->file);
	printf(",\"generation\":%u,\"loaded\":\"%s\",\"loaded_age\":%lld,"
	    "\"partners\":%u,\"domains\":%u}", ci->generation, when,
	    (long long)(now - ci->loaded), ci->partners, ci->domains);
}

static void
json_partner(const struct xgw_partner *p)
{
	struct xgw_name	*n;
	int		 first = 1;

	json_item();
	printf("{\"domain\":");
	json_string(p->name);
	printf(",\"description\":");
	json_string(p->descr);
	printf(",\"additional_domains\":[");
	TAILQ_FOREACH(n, &p->domains, entry) {
		printf("%s", first ? "" : ",");
		json_string(n->name);
		first = 0;
	}
	printf("],\"type\":");
	json_string(partner_type_name(p->type));
	printf(",\"tls\":");
	json_string(partner_neg_name(p->tls));
	printf(",\"sasl\":");
	json_string(partner_neg_name(p->sasl));
	printf(",\"dialback\":%s,\"keepalive\":%s,\"connections\":%u,"
	    "\"proxy\":", p->dialback ? "true" : "false",
	    p->keepalive ? "true" : "false", p->connections);
	if (p->proxy[0] == '\0')
		printf("null");
	else {
		printf("{\"host\":");
		json_string(p->proxy);
		printf(",\"port\":%u}", p->proxy_port);
	}
	printf("}");
}

static void
json_stream(const struct ctl_stream *st)
{
	json_item();
	printf("{\"instance\":%u,\"id\":%u,\"direction\":", st->instance,
	    st->id);
	json_string(st->dir);
	printf(",\"local\":");
	json_string(st->local);
	printf(",\"remote\":");
	json_string(st->remote);
	printf(",\"address\":");
	json_string(st->addr);
	printf(",\"tls_version\":");
	json_string(st->tls_version);
	printf(",\"tls_cipher\":");
	json_string(st->tls_cipher);
	printf(",\"authentication\":");
	json_string(st->auth);
	printf(",\"state\":");
	json_string(st->state);
	printf(",\"age\":%u}", st->age);
}

static void
json_result(int ok, const char *msg)
{
	/* a listing that ends in an error closes its array first */
	if (json_open)
		printf("],\"result\":\"%s\",\"message\":",
		    ok ? "ok" : "failed");
	else
		printf("{\"result\":\"%s\",\"message\":",
		    ok ? "ok" : "failed");
	json_string(msg);
	printf("}\n");
	json_open = 0;
}

static void
json_partner_streams(const struct xgw_partner *p)
{
	printf("{\"partner\":");
	json_first = 1;
	json_partner(p);
	printf(",\"streams\":[");
	json_first = 1;
	json_open = 1;
}

static void
json_tail(enum actions a)
{
	if (a == STATUS)
		printf(json_open == 2 ? "]}}\n" : "}\n");
	else if (json_open)
		printf("]}\n");
	json_open = 0;
}

static void
json_step(const struct ctl_step *st)
{
	json_item();
	printf("{\"step\":");
	json_string(st->step);
	printf(",\"status\":");
	json_string(st->status);
	printf(",\"text\":");
	json_string(st->text);
	printf("}");
}

const struct output json_output = {
	json_head, json_proc, json_confinfo, json_partner, json_stream,
	json_counters, json_cause, json_auth, json_result, json_tail,
	json_partner_streams, json_step
};
