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
 * The configuration file parser, in the shape of the OpenBSD daemons'
 * parse.y: a hand-written lexer with macros and include, a byacc
 * grammar that fills a struct xgw_config, and a check of the whole
 * configuration afterwards.  Every error is reported, as file:line:
 * message on stderr, before parse_config gives up.
 */

%{
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "xmppgwd.h"
#include "log.h"

#define INCLUDE_DEPTH_MAX	16

static TAILQ_HEAD(files, file)		 files = TAILQ_HEAD_INITIALIZER(files);
static struct file {
	TAILQ_ENTRY(file)	 entry;
	FILE			*stream;
	char			*name;
	char			 dir[PATH_MAX];	/* relative paths start here */
	size_t			 ungetpos;
	size_t			 ungetsize;
	unsigned char		*ungetbuf;
	int			 eof_reached;
	int			 lineno;
	int			 errors;
	int			 depth;
} *file, *topfile;
static struct file	*pushfile(const char *, int);
static int		 popfile(void);
static int		 yylex(void);
static int		 yyerror(const char *, ...)
			    __attribute__((__format__ (printf, 1, 2)))
			    __attribute__((__nonnull__ (1)));
static int		 kw_cmp(const void *, const void *);
static int		 lookup(const char *);
static int		 igetc(void);
static int		 lgetc(int);
static void		 lungetc(int);
static int		 findeol(void);

static TAILQ_HEAD(symhead, sym)		 symhead =
				    TAILQ_HEAD_INITIALIZER(symhead);
struct sym {
	TAILQ_ENTRY(sym)	 entry;
	int			 used;
	int			 persist;
	char			*nam;
	char			*val;
};
static int		 symset(const char *, const char *, int);
static char		*symget(const char *);

/*
 * The strings the lexer hands to the grammar live until the end of the
 * parse: byacc's error recovery drops tokens without a word, so the
 * actions do not free them.
 */
static char		**strs;
static size_t		  nstrs, strsmax;
static char		*str_keep(char *);
static void		 str_free_all(void);

/*
 * Where a partner or a local domain was defined, for the messages of
 * the checks that run after the whole file is read.  struct xgw_partner
 * travels to the children and has no room for this.
 */
struct objloc {
	TAILQ_ENTRY(objloc)	 entry;
	const void		*obj;
	char			*fname;
	int			 line;
};
static TAILQ_HEAD(objlocs, objloc)	 objlocs =
				    TAILQ_HEAD_INITIALIZER(objlocs);

/* global statements that may appear only once */
#define SEEN_USER		0x0001
#define SEEN_PREFORK		0x0002
#define SEEN_CHROOT		0x0004
#define SEEN_STATEDIR		0x0008
#define SEEN_SOCKET		0x0010
#define SEEN_CAFILE		0x0020
#define SEEN_SECRET		0x0040
#define SEEN_LIMITS		0x0080
#define SEEN_TIMEOUTS		0x0100
#define SEEN_SIP		0x0200

/* items of a block that may appear only once in it */
#define ITEM_DESCR		0x0001
#define ITEM_TYPE		0x0002
#define ITEM_TLS		0x0004
#define ITEM_SASL		0x0008
#define ITEM_DIALBACK		0x0010
#define ITEM_KEEPALIVE		0x0020
#define ITEM_CONNECTIONS	0x0040
#define ITEM_PROXY		0x0080
#define ITEM_CERT		0x0100
#define ITEM_KEY		0x0200
#define ITEM_PERPARTNER		0x0400
#define ITEM_STANZASIZE		0x0800
#define ITEM_ESTABLISH		0x1000
#define ITEM_IDLE		0x2000
#define ITEM_SUBREFRESH		0x4000
#define ITEM_USERS		0x8000
#define ITEM_CAFILE		0x10000
#define ITEM_READRATE		0x20000

static struct xgw_config	*conf;
static unsigned int		 seen;		/* SEEN_* */
static unsigned int		 items;		/* ITEM_* of the open block */
static struct xgw_partner	*cur_partner;
static struct xgw_domain	*cur_domain;
static unsigned int		 nuserpats;	/* in the open users { } */
static int			 sip_line;	/* of the sip block */
static int			 check_errors;	/* of conf_check */

/*
 * What the lexer returned last, for a better message than "syntax
 * error" when the culprit is a misspelt keyword.
 */
struct lexhist {
	int			 tok;
	int			 bare;		/* unquoted, not a keyword */
	char			 word[64];
};
static struct lexhist		 lexhist[3];
static int			 lex_bare;
static int			 in_lex;	/* the lexer is running */
static int			 lex_failed;	/* and has complained */

static void	 conf_vmsg(const char *, int, const char *, const char *,
		    va_list) __attribute__((__format__ (printf, 4, 0)));
static void	 conf_error(const char *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 conf_warn(const char *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	 in_range(const char *, int64_t, int64_t, int64_t);
static int	 seen_once(unsigned int *, unsigned int, const char *);
static int	 copy_string(char *, const char *, size_t, const char *);
static int	 abs_path(char *, const char *, size_t, const char *);
static int	 resolve_path(char *, const char *, size_t, const char *);
static void	 lowercase(char *);
static int	 host_addr(const char *, struct sockaddr_storage *);
static void	 host_set_port(struct sockaddr_storage *, in_port_t);
static int	 host_string(const struct sockaddr_storage *, char *, size_t);
static int	 proxy_host(char *, const char *, size_t, const char *);
static int	 listen_add(struct xgw_listens *, const char *, int64_t,
		    enum xgw_transport);
static int	 trusted_add(const char *);
static int	 objloc_add(const void *, int);
static struct objloc *objloc_find(const void *);
static void	 objloc_clear(void);
static int	 load_file(struct xgw_file *, int, const char *);
static int	 load_secret(void);
static void	 domain_begin(char *, int);
static void	 domain_end(void);
static void	 domain_user(char *);
static void	 domain_keypair(struct xgw_domain *, const char *, int);
static int	 keypair_check(struct xgw_file *, struct xgw_file *, char *,
		    size_t);
static void	 partner_begin(char *, int);
static void	 partner_domain(char *);
static void	 sip_begin(int);
static void	 sip_end(void);
static int	 conf_check(void);

typedef struct {
	union {
		int64_t			 number;
		char			*string;
	} v;
	int lineno;
} YYSTYPE;

%}

%token	ADDITIONAL CA CERTIFICATE CHROOT CONNECTIONS DESCRIPTION DIALBACK
%token	DIRECTORY DOMAIN DOMAINS ESTABLISH FEDERATED FILENAME IDLE INCLUDE
%token	KEEPALIVE KEY LIMITS LISTEN NO NOT ON OPTION OPTIONAL PARTNER
%token	PERPARTNER PORT PREFORK PROXY PUBLIC READRATE REQUIRED RESOLVER SASL
%token	SECRET
%token	SIP SOCKET STANZASIZE STATE SUBREFRESH SUPPORTED TCP TIMEOUTS TLS
%token	TRUSTED TYPE UNVERIFIED USER USERS VERIFIED YES ALL
%token	ERROR
%token	<v.string>	STRING
%token	<v.number>	NUMBER
%type	<v.number>	yesno neg ptype port tlsopt transport
%type	<v.string>	value

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar include '\n'
		| grammar main '\n'
		| grammar varset '\n'
		| grammar error '\n'		{
			file->errors++;
			/* report the errors of the next line too */
			yyerrok;
		}
		;

include		: INCLUDE STRING		{
			struct file	*nfile;
			char		 path[PATH_MAX];

			if (resolve_path(path, $2, sizeof(path), "include")
			    == -1)
				YYERROR;
			if ((nfile = pushfile(path, file->depth + 1)) ==
			    NULL)
				YYERROR;
			file = nfile;
			/* the include line's own newline is in the parent */
			lungetc('\n');
		}
		;

/* after an error in a block, a new line may have errors of its own */
optnl		: '\n' optnl			{ yyerrok; }
		| /* empty */
		;

value		: STRING
		| NUMBER			{
			char	*str;

			if (asprintf(&str, "%lld", (long long)$1) == -1)
				fatal("%s", __func__);
			$$ = str_keep(str);
		}
		;

varset		: STRING '=' value		{
			const char	*s;
			int		 ok = *$1 != '\0';

			for (s = $1; *s != '\0'; s++)
				if (!isalnum((unsigned char)*s) && *s != '_')
					ok = 0;
			if (!ok)
				yyerror("macro name \"%s\" may hold only "
				    "letters, digits and _", $1);
			else if (symset($1, $3, 0) == -1)
				yyerror("cannot store macro: %s",
				    strerror(errno));
		}
		;

yesno		: YES				{ $$ = 1; }
		| NO				{ $$ = 0; }
		;

neg		: REQUIRED			{ $$ = NEG_REQUIRED; }
		| OPTIONAL			{ $$ = NEG_OPTIONAL; }
		| NOT SUPPORTED			{ $$ = NEG_NOT_SUPPORTED; }
		;

ptype		: FEDERATED			{ $$ = PTYPE_FEDERATED; }
		| PUBLIC VERIFIED		{ $$ = PTYPE_PUBLIC_VERIFIED; }
		| PUBLIC UNVERIFIED		{
			$$ = PTYPE_PUBLIC_UNVERIFIED;
		}
		;

/* 0: not given, the statement's default applies */
port		: /* empty */			{ $$ = 0; }
		| PORT NUMBER			{
			if (!in_range("port", $2, 1, 65535))
				YYERROR;
			$$ = $2;
		}
		;

tlsopt		: /* empty */			{ $$ = XPORT_TCP; }
		| TLS				{ $$ = XPORT_TLS; }
		;

/* -1: not given */
transport	: /* empty */			{ $$ = -1; }
		| TCP				{ $$ = XPORT_TCP; }
		| TLS				{ $$ = XPORT_TLS; }
		;

main		: USER STRING			{
			if (seen_once(&seen, SEEN_USER, "user") == 0) {
				if (*$2 == '\0')
					yyerror("user: empty name");
				else
					copy_string(conf->user, $2,
					    sizeof(conf->user), "user");
			}
		}
		| PREFORK NUMBER		{
			if (seen_once(&seen, SEEN_PREFORK, "prefork") == 0 &&
			    in_range("prefork", $2, 1, XGW_PREFORK_MAX))
				conf->prefork = $2;
		}
		| CHROOT STRING			{
			if (seen_once(&seen, SEEN_CHROOT, "chroot") == 0)
				abs_path(conf->chroot, $2,
				    sizeof(conf->chroot), "chroot");
		}
		| STATE DIRECTORY STRING	{
			if (seen_once(&seen, SEEN_STATEDIR,
			    "state directory") == 0)
				abs_path(conf->statedir, $3,
				    sizeof(conf->statedir), "state directory");
		}
		| SOCKET STRING			{
			struct sockaddr_un	 sa_un;

			if (seen_once(&seen, SEEN_SOCKET, "socket") == 0 &&
			    abs_path(conf->socket, $2, sizeof(conf->socket),
			    "socket") == 0 &&
			    strlen(conf->socket) >= sizeof(sa_un.sun_path))
				yyerror("socket: \"%s\": longer than %zu "
				    "bytes", $2, sizeof(sa_un.sun_path) - 1);
		}
		| CA FILENAME STRING		{
			if (seen_once(&seen, SEEN_CAFILE, "ca file") == 0 &&
			    resolve_path(conf->ca.path, $3,
			    sizeof(conf->ca.path), "ca file") == 0)
				load_file(&conf->ca, 0, "ca file");
		}
		| DIALBACK SECRET FILENAME STRING {
			if (seen_once(&seen, SEEN_SECRET,
			    "dialback secret file") == 0 &&
			    resolve_path(conf->secret.path, $4,
			    sizeof(conf->secret.path),
			    "dialback secret file") == 0)
				load_secret();
		}
		| RESOLVER STRING		{
			struct sockaddr_storage	 ss;
			struct xgw_name		*n, *r;

			if (host_addr($2, &ss) == -1) {
				yyerror("resolver \"%s\": not an IP address",
				    $2);
				YYERROR;
			}
			if ((n = calloc(1, sizeof(*n))) == NULL) {
				yyerror("calloc: %s", strerror(errno));
				YYERROR;
			}
			if (host_string(&ss, n->name, sizeof(n->name)) == -1) {
				yyerror("resolver: cannot print address");
				free(n);
				YYERROR;
			}
			TAILQ_FOREACH(r, &conf->resolvers, entry)
				if (strcmp(r->name, n->name) == 0)
					break;
			if (r != NULL) {
				yyerror("duplicate resolver %s", n->name);
				free(n);
				YYERROR;
			}
			TAILQ_INSERT_TAIL(&conf->resolvers, n, entry);
		}
		| RESOLVER OPTION STRING STRING	{
			struct xgw_option	*o;

			if ((o = calloc(1, sizeof(*o))) == NULL) {
				yyerror("calloc: %s", strerror(errno));
				YYERROR;
			}
			if (*$3 == '\0') {
				yyerror("resolver option: empty name");
				free(o);
			} else if (copy_string(o->name, $3, sizeof(o->name),
			    "resolver option") == -1 ||
			    copy_string(o->value, $4, sizeof(o->value),
			    "resolver option") == -1)
				free(o);
			else
				TAILQ_INSERT_TAIL(&conf->resolver_options, o,
				    entry);
		}
		| LISTEN ON STRING port tlsopt	{
			int	 rv;

			rv = listen_add(&conf->listens, $3,
			    $4 ? $4 : XMPP_S2S_PORT, $5);
			if (rv == -1)
				YYERROR;
		}
		| LIMITS			{
			seen_once(&seen, SEEN_LIMITS, "limits");
			items = 0;
		} '{' optnl limitopts '}'
		| TIMEOUTS			{
			seen_once(&seen, SEEN_TIMEOUTS, "timeouts");
			items = 0;
		} '{' optnl timeoutopts '}'
		| DOMAIN STRING			{
			domain_begin($2, $<lineno>1);
		} '{' optnl domainopts '}'	{
			domain_end();
		}
		| SIP				{
			sip_begin($<lineno>1);
		} '{' optnl sipopts '}'		{
			sip_end();
		}
		| PARTNER STRING		{
			partner_begin($2, $<lineno>1);
		} '{' optnl partneropts '}'	{
			cur_partner = NULL;
		}
		;

limitopts	: /* empty */
		| limitopts limitopt optnl
		| limitopts error optnl
		;

limitopt	: CONNECTIONS NUMBER		{
			if (seen_once(&items, ITEM_CONNECTIONS,
			    "limits connections") == 0 &&
			    in_range("limits connections", $2, 1, 1000000))
				conf->limits.connections = $2;
		}
		| PERPARTNER NUMBER		{
			if (seen_once(&items, ITEM_PERPARTNER,
			    "limits per-partner") == 0 &&
			    in_range("limits per-partner", $2, 1, 100000))
				conf->limits.per_partner = $2;
		}
		| STANZASIZE NUMBER		{
			if (seen_once(&items, ITEM_STANZASIZE,
			    "limits stanza-size") == 0 &&
			    in_range("limits stanza-size", $2, 10000,
			    XGW_STANZA_MAX))
				conf->limits.stanza_size = $2;
		}
		| READRATE NUMBER		{
			if (seen_once(&items, ITEM_READRATE,
			    "limits read-rate") == 0) {
				if ($2 != 0 && ($2 < 1024 || $2 > 1000000000))
					yyerror("limits read-rate %lld: neither "
					    "0 (no limit) nor 1024..1000000000",
					    (long long)$2);
				else
					conf->limits.read_rate = $2;
			}
		}
		;

timeoutopts	: /* empty */
		| timeoutopts timeoutopt optnl
		| timeoutopts error optnl
		;

timeoutopt	: ESTABLISH NUMBER		{
			if (seen_once(&items, ITEM_ESTABLISH,
			    "timeouts establish") == 0 &&
			    in_range("timeouts establish", $2, 1, 3600))
				conf->timeouts.establish = $2;
		}
		| IDLE NUMBER			{
			if (seen_once(&items, ITEM_IDLE,
			    "timeouts idle") == 0 &&
			    in_range("timeouts idle", $2, 1, 86400))
				conf->timeouts.idle = $2;
		}
		| KEEPALIVE NUMBER		{
			if (seen_once(&items, ITEM_KEEPALIVE,
			    "timeouts keepalive") == 0 &&
			    in_range("timeouts keepalive", $2, 1, 86400))
				conf->timeouts.keepalive = $2;
		}
		| SUBREFRESH NUMBER		{
			if (seen_once(&items, ITEM_SUBREFRESH,
			    "timeouts subscription-refresh") == 0 &&
			    in_range("timeouts subscription-refresh", $2, 60,
			    604800))
				conf->timeouts.subscription_refresh = $2;
		}
		;

domainopts	: /* empty */
		| domainopts domainopt optnl
		| domainopts error optnl
		;

domainopt	: CERTIFICATE STRING		{
			if (seen_once(&items, ITEM_CERT,
			    "domain certificate") == 0)
				resolve_path(cur_domain->cert.path, $2,
				    sizeof(cur_domain->cert.path),
				    "certificate");
		}
		| KEY STRING			{
			if (seen_once(&items, ITEM_KEY, "domain key") == 0)
				resolve_path(cur_domain->key.path, $2,
				    sizeof(cur_domain->key.path), "key");
		}
		| USERS ALL			{
			seen_once(&items, ITEM_USERS, "domain users");
		}
		| USERS '{' optnl userpatterns '}'	{
			if (seen_once(&items, ITEM_USERS, "domain users") == 0 &&
			    nuserpats == 0)
				yyerror("domain \"%s\": users: empty list "
				    "(say \"users all\" for everybody)",
				    cur_domain->name);
			nuserpats = 0;
		}
		;

userpatterns	: /* empty */
		| userpatterns STRING optnl	{ domain_user($2); }
		| userpatterns error optnl
		;

sipopts		: /* empty */
		| sipopts sipopt optnl
		| sipopts error optnl
		;

sipopt		: PROXY STRING port transport	{
			struct xgw_sip	*sip = &conf->sip;

			if (seen_once(&items, ITEM_PROXY, "sip proxy") == 0 &&
			    proxy_host(sip->proxy, $2, sizeof(sip->proxy),
			    "sip proxy") == 0) {
				(void)strlcpy(sip->proxy_file, file->name,
				    sizeof(sip->proxy_file));
				sip->proxy_line = $<lineno>1;
				sip->proxy_transport = $4 == -1 ?
				    XPORT_TCP : $4;
				if ($3)
					sip->proxy_port = $3;
				else
					sip->proxy_port = sip->proxy_transport
					    == XPORT_TLS ? SIPS_PORT : SIP_PORT;
			}
		}
		| LISTEN ON STRING port transport {
			enum xgw_transport	 t;
			int			 rv;

			t = $5 == -1 ? XPORT_TCP : $5;
			rv = listen_add(&conf->sip.listens, $3, $4 ? $4 :
			    t == XPORT_TLS ? SIPS_PORT : SIP_PORT, t);
			if (rv == -1)
				YYERROR;
		}
		| TRUSTED STRING		{
			int	 rv;

			rv = trusted_add($2);
			if (rv == -1)
				YYERROR;
		}
		| CA FILENAME STRING		{
			struct xgw_file	*f = &conf->sip.ca;

			if (seen_once(&items, ITEM_CAFILE, "sip ca file") == 0 &&
			    resolve_path(f->path, $3, sizeof(f->path),
			    "sip ca file") == 0)
				load_file(f, 0, "sip ca file");
		}
		| CERTIFICATE STRING		{
			struct xgw_file	*f = &conf->sip.cert;

			if (seen_once(&items, ITEM_CERT,
			    "sip certificate") == 0 &&
			    resolve_path(f->path, $2, sizeof(f->path),
			    "sip certificate") == 0)
				load_file(f, 0, "sip certificate");
		}
		| KEY STRING			{
			struct xgw_file	*f = &conf->sip.key;

			if (seen_once(&items, ITEM_KEY, "sip key") == 0 &&
			    resolve_path(f->path, $2, sizeof(f->path),
			    "sip key") == 0)
				load_file(f, 1, "sip key");
		}
		;

partneropts	: /* empty */
		| partneropts partneropt optnl
		| partneropts error optnl
		;

partneropt	: DESCRIPTION STRING		{
			const unsigned char	*s;

			if (seen_once(&items, ITEM_DESCR,
			    "partner description") == 0) {
				for (s = (const unsigned char *)$2; *s != '\0';
				    s++)
					if (*s < 0x20 || *s == 0x7f)
						break;
				if (*s != '\0')
					yyerror("description: control "
					    "characters are not allowed");
				else
					copy_string(cur_partner->descr, $2,
					    sizeof(cur_partner->descr),
					    "description");
			}
		}
		| ADDITIONAL DOMAINS '{' optnl partnerdomains '}'
		| TYPE ptype			{
			if (seen_once(&items, ITEM_TYPE, "partner type") == 0)
				cur_partner->type = $2;
		}
		| TLS neg			{
			if (seen_once(&items, ITEM_TLS, "partner tls") == 0)
				cur_partner->tls = $2;
		}
		| SASL neg			{
			if (seen_once(&items, ITEM_SASL, "partner sasl") == 0)
				cur_partner->sasl = $2;
		}
		| DIALBACK yesno		{
			if (seen_once(&items, ITEM_DIALBACK,
			    "partner dialback") == 0)
				cur_partner->dialback = $2;
		}
		| KEEPALIVE yesno		{
			if (seen_once(&items, ITEM_KEEPALIVE,
			    "partner keepalive") == 0)
				cur_partner->keepalive = $2;
		}
		| CONNECTIONS NUMBER		{
			if (seen_once(&items, ITEM_CONNECTIONS,
			    "partner connections") == 0 &&
			    in_range("partner connections", $2, 1, 100000))
				cur_partner->connections = $2;
		}
		| PROXY STRING port		{
			if (seen_once(&items, ITEM_PROXY,
			    "partner proxy") == 0 &&
			    proxy_host(cur_partner->proxy, $2,
			    sizeof(cur_partner->proxy), "partner proxy") == 0)
				cur_partner->proxy_port = $3 ? $3 :
				    XMPP_S2S_PORT;
		}
		;

partnerdomains	: /* empty */
		| partnerdomains STRING optnl	{ partner_domain($2); }
		| partnerdomains error optnl
		;

%%

/*
 * Sorted for bsearch; regress/unit/parse_test.c checks that it stays
 * so.
 */
static const struct keywords keywords[] = {
	{ "additional",			ADDITIONAL },
	{ "all",			ALL },
	{ "ca",				CA },
	{ "certificate",		CERTIFICATE },
	{ "chroot",			CHROOT },
	{ "connections",		CONNECTIONS },
	{ "description",		DESCRIPTION },
	{ "dialback",			DIALBACK },
	{ "directory",			DIRECTORY },
	{ "domain",			DOMAIN },
	{ "domains",			DOMAINS },
	{ "establish",			ESTABLISH },
	{ "federated",			FEDERATED },
	{ "file",			FILENAME },
	{ "idle",			IDLE },
	{ "include",			INCLUDE },
	{ "keepalive",			KEEPALIVE },
	{ "key",			KEY },
	{ "limits",			LIMITS },
	{ "listen",			LISTEN },
	{ "no",				NO },
	{ "not",			NOT },
	{ "on",				ON },
	{ "option",			OPTION },
	{ "optional",			OPTIONAL },
	{ "partner",			PARTNER },
	{ "per-partner",		PERPARTNER },
	{ "port",			PORT },
	{ "prefork",			PREFORK },
	{ "proxy",			PROXY },
	{ "public",			PUBLIC },
	{ "read-rate",			READRATE },
	{ "required",			REQUIRED },
	{ "resolver",			RESOLVER },
	{ "sasl",			SASL },
	{ "secret",			SECRET },
	{ "sip",			SIP },
	{ "socket",			SOCKET },
	{ "stanza-size",		STANZASIZE },
	{ "state",			STATE },
	{ "subscription-refresh",	SUBREFRESH },
	{ "supported",			SUPPORTED },
	{ "tcp",			TCP },
	{ "timeouts",			TIMEOUTS },
	{ "tls",			TLS },
	{ "trusted",			TRUSTED },
	{ "type",			TYPE },
	{ "unverified",			UNVERIFIED },
	{ "user",			USER },
	{ "users",			USERS },
	{ "verified",			VERIFIED },
	{ "yes",			YES }
};

const struct keywords *
parse_keywords(size_t *n)
{
	*n = nitems(keywords);
	return (keywords);
}

static void
conf_vmsg(const char *fname, int line, const char *prefix, const char *fmt,
    va_list ap)
{
	char	*msg;

	if (vasprintf(&msg, fmt, ap) == -1) {
		config_msg("%s: out of memory", fname);
		return;
	}
	if (line > 0)
		config_msg("%s:%d: %s%s", fname, line, prefix, msg);
	else
		config_msg("%s: %s%s", fname, prefix, msg);
	free(msg);
}

/* An error found after parsing, at the line of the object concerned. */
static void
conf_error(const char *fname, int line, const char *fmt, ...)
{
	va_list	 ap;

	check_errors++;
	va_start(ap, fmt);
	conf_vmsg(fname, line, "", fmt, ap);
	va_end(ap);
}

static void
conf_warn(const char *fname, int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_vmsg(fname, line, "warning: ", fmt, ap);
	va_end(ap);
}

static int
yyerror(const char *fmt, ...)
{
	va_list			 ap;
	struct lexhist		*cur = &lexhist[0], *prev = &lexhist[1];
	int			 stmtstart;

	file->errors++;
	if (in_lex)
		lex_failed = 1;
	/*
	 * byacc says only "syntax error".  After the lexer has said what
	 * is wrong with a token, that is noise.  An unquoted word that is
	 * not a keyword where a statement starts is most likely a
	 * misspelt one: name it.
	 */
	if (strcmp(fmt, "syntax error") == 0) {
		if (lex_failed)
			return (0);
		stmtstart = lexhist[2].tok == 0 || lexhist[2].tok == '\n' ||
		    lexhist[2].tok == '{';
		if (prev->bare && stmtstart) {
			config_msg("%s:%d: syntax error: unknown keyword "
			    "\"%s\"", file->name, yylval.lineno, prev->word);
			return (0);
		}
		if (cur->bare) {
			config_msg("%s:%d: syntax error: %s \"%s\"",
			    file->name, yylval.lineno,
			    prev->tok == '\n' || prev->tok == '{' ?
			    "unknown keyword" : "unexpected", cur->word);
			return (0);
		}
	}
	va_start(ap, fmt);
	conf_vmsg(file->name, yylval.lineno, "", fmt, ap);
	va_end(ap);
	return (0);
}

static int
kw_cmp(const void *k, const void *e)
{
	return (strcmp(k, ((const struct keywords *)e)->k_name));
}

static int
lookup(const char *s)
{
	const struct keywords	*p;

	p = bsearch(s, keywords, nitems(keywords), sizeof(keywords[0]),
	    kw_cmp);
	if (p != NULL)
		return (p->k_val);
	return (STRING);
}

#define START_EXPAND	1
#define DONE_EXPAND	2

static int	expanding;

static int
igetc(void)
{
	int	c;

	for (;;) {
		if (file->ungetpos > 0)
			c = file->ungetbuf[--file->ungetpos];
		else
			c = getc(file->stream);

		if (c == START_EXPAND)
			expanding = 1;
		else if (c == DONE_EXPAND)
			expanding = 0;
		else
			break;
	}
	return (c);
}

static int
lgetc(int quotec)
{
	int	c, next;

	if (quotec) {
		if ((c = igetc()) == EOF) {
			yyerror("reached end of file while parsing "
			    "quoted string");
			if (file == topfile || popfile() == EOF)
				return (EOF);
			return (quotec);
		}
		return (c);
	}

	while ((c = igetc()) == '\\') {
		next = igetc();
		if (next != '\n') {
			c = next;
			break;
		}
		yylval.lineno = file->lineno;
		file->lineno++;
	}

	if (c == EOF) {
		/*
		 * Fake a newline the first time the end of a file is hit:
		 * the last line of an included file may lack one.
		 */
		if (file->eof_reached == 0) {
			file->eof_reached = 1;
			return ('\n');
		}
		while (c == EOF) {
			if (file == topfile || popfile() == EOF)
				return (EOF);
			c = igetc();
		}
	}
	return (c);
}

static void
lungetc(int c)
{
	unsigned char	*p;

	if (c == EOF)
		return;
	if (file->ungetpos >= file->ungetsize) {
		p = reallocarray(file->ungetbuf, file->ungetsize, 2);
		if (p == NULL)
			fatal("%s", __func__);
		file->ungetbuf = p;
		file->ungetsize *= 2;
	}
	file->ungetbuf[file->ungetpos++] = c;
}

static int
findeol(void)
{
	int	c;

	/*
	 * Skip to either EOF or the first real EOL, and leave the EOL to
	 * the grammar: its error recovery resumes there, not a line later.
	 */
	for (;;) {
		c = lgetc(0);
		if (c == '\n') {
			lungetc(c);
			break;
		}
		if (c == EOF)
			break;
	}
	return (ERROR);
}

#define allowed_to_end_number(x) \
	(isspace(x) || x == ')' || x == ',' || x == '}' || x == '=' || \
	x == '#')

#define allowed_in_string(x) \
	(isalnum(x) || (ispunct(x) && x != '(' && x != ')' && \
	x != '{' && x != '}' && x != '<' && x != '>' && \
	x != '!' && x != '=' && x != '#' && x != ',' && \
	x != '"' && x != '\''))

static int
lex(void)
{
	char		 buf[8096];
	char		*p, *val;
	int		 quotec, next, c;
	int		 token;

	lex_bare = 0;
top:
	p = buf;
	while ((c = lgetc(0)) == ' ' || c == '\t')
		; /* nothing */

	yylval.lineno = file->lineno;
	if (c == '#')
		while ((c = lgetc(0)) != '\n' && c != EOF)
			; /* nothing */
	if (c == '$' && !expanding) {
		for (;;) {
			if ((c = lgetc(0)) == EOF)
				return (0);
			if (p + 1 >= buf + sizeof(buf) - 1) {
				yyerror("string too long");
				return (findeol());
			}
			if (isalnum(c) || c == '_') {
				*p++ = c;
				continue;
			}
			*p = '\0';
			lungetc(c);
			break;
		}
		if ((val = symget(buf)) == NULL) {
			yyerror("macro \"%s\" not defined", buf);
			return (findeol());
		}
		p = val + strlen(val) - 1;
		lungetc(DONE_EXPAND);
		while (p >= val) {
			lungetc((unsigned char)*p);
			p--;
		}
		lungetc(START_EXPAND);
		goto top;
	}

	switch (c) {
	case '\'':
	case '"':
		quotec = c;
		for (;;) {
			if ((c = lgetc(quotec)) == EOF)
				return (0);
			if (c == '\n') {
				file->lineno++;
				continue;
			} else if (c == '\\') {
				if ((next = lgetc(quotec)) == EOF)
					return (0);
				if (next == quotec || next == '\\' ||
				    next == ' ' || next == '\t')
					c = next;
				else if (next == '\n') {
					file->lineno++;
					continue;
				} else
					lungetc(next);
			} else if (c == quotec) {
				*p = '\0';
				break;
			} else if (c == '\0') {
				yyerror("NUL character in quoted string");
				return (findeol());
			}
			if (p + 1 >= buf + sizeof(buf) - 1) {
				yyerror("string too long");
				return (findeol());
			}
			*p++ = c;
		}
		yylval.v.string = str_keep(strdup(buf));
		return (STRING);
	}

	if (c == '-' || isdigit(c)) {
		do {
			*p++ = c;
			if ((size_t)(p - buf) >= sizeof(buf)) {
				yyerror("string too long");
				return (findeol());
			}
		} while ((c = lgetc(0)) != EOF && isdigit(c));
		lungetc(c);
		if (p == buf + 1 && buf[0] == '-')
			goto nodigits;
		if (c == EOF || allowed_to_end_number(c)) {
			const char	*errstr = NULL;

			*p = '\0';
			yylval.v.number = strtonum(buf, LLONG_MIN,
			    LLONG_MAX, &errstr);
			if (errstr) {
				yyerror("\"%s\" invalid number: %s",
				    buf, errstr);
				return (findeol());
			}
			return (NUMBER);
		} else {
nodigits:
			while (p > buf + 1)
				lungetc((unsigned char)*--p);
			c = (unsigned char)*--p;
			if (c == '-')
				return (c);
		}
	}

	if (isalnum(c) || c == ':' || c == '_' || c == '/' || c == '.') {
		do {
			*p++ = c;
			if ((size_t)(p - buf) >= sizeof(buf)) {
				yyerror("string too long");
				return (findeol());
			}
		} while ((c = lgetc(0)) != EOF && (allowed_in_string(c)));
		lungetc(c);
		*p = '\0';
		if ((token = lookup(buf)) == STRING) {
			yylval.v.string = str_keep(strdup(buf));
			lex_bare = 1;
		}
		return (token);
	}
	if (c == '\n') {
		yylval.lineno = file->lineno;
		file->lineno++;
	}
	if (c == EOF)
		return (0);
	return (c);
}

static int
yylex(void)
{
	int	 tok;

	lex_failed = 0;
	in_lex = 1;
	tok = lex();
	in_lex = 0;
	memmove(&lexhist[1], &lexhist[0], 2 * sizeof(lexhist[0]));
	lexhist[0].tok = tok;
	lexhist[0].bare = lex_bare;
	if (lex_bare)
		(void)strlcpy(lexhist[0].word, yylval.v.string,
		    sizeof(lexhist[0].word));
	else
		lexhist[0].word[0] = '\0';
	return (tok);
}

static char *
str_keep(char *str)
{
	char	**p;

	if (str == NULL)
		fatal("%s", __func__);
	if (nstrs == strsmax) {
		if ((p = reallocarray(strs, strsmax + 64, sizeof(*strs))) ==
		    NULL)
			fatal("%s", __func__);
		strs = p;
		strsmax += 64;
	}
	strs[nstrs++] = str;
	return (str);
}

static void
str_free_all(void)
{
	while (nstrs > 0)
		free(strs[--nstrs]);
	free(strs);
	strs = NULL;
	strsmax = 0;
}

static struct file *
pushfile(const char *name, int depth)
{
	struct file	*nfile;
	struct stat	 st;
	char		 dir[PATH_MAX];
	const char	*why = NULL;

	if (depth > INCLUDE_DEPTH_MAX) {
		yyerror("include \"%s\": nested too deeply", name);
		return (NULL);
	}
	if ((nfile = calloc(1, sizeof(*nfile))) == NULL)
		goto fail;
	if ((nfile->name = strdup(name)) == NULL)
		goto fail;
	if ((nfile->stream = fopen(name, "re")) == NULL)
		goto fail;
	if (fstat(fileno(nfile->stream), &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
		goto fail;
	}
	/* dirname(3) may modify its argument */
	if (strlcpy(dir, name, sizeof(dir)) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (realpath(dirname(dir), nfile->dir) == NULL)
		goto fail;
	/* an included file starts with the newline include pushes back */
	nfile->lineno = depth == 0 ? 1 : 0;
	nfile->depth = depth;
	nfile->ungetsize = 16;
	if ((nfile->ungetbuf = malloc(nfile->ungetsize)) == NULL)
		goto fail;
	TAILQ_INSERT_TAIL(&files, nfile, entry);
	return (nfile);
 fail:
	if (why == NULL)
		why = strerror(errno);
	if (file != NULL)
		yyerror("include \"%s\": %s", name, why);
	else
		config_msg("%s: %s", name, why);
	if (nfile != NULL) {
		if (nfile->stream != NULL)
			fclose(nfile->stream);
		free(nfile->name);
		free(nfile);
	}
	return (NULL);
}

static int
popfile(void)
{
	struct file	*prev;

	if ((prev = TAILQ_PREV(file, files, entry)) != NULL)
		prev->errors += file->errors;

	TAILQ_REMOVE(&files, file, entry);
	fclose(file->stream);
	free(file->name);
	free(file->ungetbuf);
	free(file);
	file = prev;
	return (file ? 0 : EOF);
}

struct xgw_config *
parse_config(const char *filename, int opts)
{
	struct xgw_config	*c;
	struct sym		*sym, *next;
	int			 errors;

	if ((conf = config_new()) == NULL) {
		config_msg("%s: %s", filename, strerror(errno));
		return (NULL);
	}
	seen = items = 0;
	cur_partner = NULL;
	cur_domain = NULL;
	check_errors = 0;
	expanding = 0;
	in_lex = lex_failed = 0;
	memset(lexhist, 0, sizeof(lexhist));

	if ((file = pushfile(filename, 0)) == NULL) {
		config_free(conf);
		conf = NULL;
		return (NULL);
	}
	topfile = file;

	yyparse();
	/* an aborted parse may leave included files open */
	while (file != topfile)
		popfile();
	errors = file->errors;

	/* the file's name stays valid for the messages of the checks */
	errors += conf_check();
	popfile();
	topfile = NULL;

	/* Free the macros of the file; those of -D stay for a reload. */
	TAILQ_FOREACH_SAFE(sym, &symhead, entry, next) {
		if (!sym->persist) {
			free(sym->nam);
			free(sym->val);
			TAILQ_REMOVE(&symhead, sym, entry);
			free(sym);
		}
	}
	objloc_clear();
	str_free_all();

	c = conf;
	conf = NULL;
	if (errors) {
		config_free(c);
		return (NULL);
	}
	return (c);
}

static int
symset(const char *nam, const char *val, int persist)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry) {
		if (strcmp(nam, sym->nam) == 0)
			break;
	}

	if (sym != NULL) {
		/* -D on the command line wins over the file */
		if (sym->persist == 1)
			return (0);
		free(sym->nam);
		free(sym->val);
		TAILQ_REMOVE(&symhead, sym, entry);
		free(sym);
	}
	if ((sym = calloc(1, sizeof(*sym))) == NULL)
		return (-1);

	sym->nam = strdup(nam);
	if (sym->nam == NULL) {
		free(sym);
		return (-1);
	}
	sym->val = strdup(val);
	if (sym->val == NULL) {
		free(sym->nam);
		free(sym);
		return (-1);
	}
	sym->used = 0;
	sym->persist = persist;
	TAILQ_INSERT_TAIL(&symhead, sym, entry);
	return (0);
}

int
cmdline_symset(char *s)
{
	char		*sym, *val;
	const char	*p;
	int		 ret;

	if ((val = strchr(s, '=')) == NULL || val == s)
		return (-1);
	for (p = s; p < val; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return (-1);
	if ((sym = strndup(s, val - s)) == NULL)
		return (-1);
	ret = symset(sym, val + 1, 1);
	free(sym);
	return (ret);
}

static char *
symget(const char *nam)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry) {
		if (strcmp(nam, sym->nam) == 0) {
			sym->used = 1;
			return (sym->val);
		}
	}
	return (NULL);
}

static int
in_range(const char *what, int64_t n, int64_t min, int64_t max)
{
	if (n < min || n > max) {
		yyerror("%s %lld: out of range %lld..%lld", what,
		    (long long)n, (long long)min, (long long)max);
		return (0);
	}
	return (1);
}

/* 0 the first time a statement is seen in its scope, -1 after */
static int
seen_once(unsigned int *mask, unsigned int bit, const char *what)
{
	if (*mask & bit) {
		yyerror("%s: specified more than once", what);
		return (-1);
	}
	*mask |= bit;
	return (0);
}

static int
copy_string(char *dst, const char *src, size_t len, const char *what)
{
	if (strlcpy(dst, src, len) >= len) {
		yyerror("%s: string too long", what);
		return (-1);
	}
	return (0);
}

static int
abs_path(char *dst, const char *src, size_t len, const char *what)
{
	if (*src != '/') {
		yyerror("%s: \"%s\" is not an absolute path", what, src);
		return (-1);
	}
	return (copy_string(dst, src, len, what));
}

/* A relative path is relative to the directory of the file naming it. */
static int
resolve_path(char *dst, const char *src, size_t len, const char *what)
{
	int	 n;

	if (*src == '\0') {
		yyerror("%s: empty path", what);
		return (-1);
	}
	if (*src == '/')
		return (copy_string(dst, src, len, what));
	n = snprintf(dst, len, "%s/%s", file->dir, src);
	if (n < 0 || (size_t)n >= len) {
		yyerror("%s: string too long", what);
		return (-1);
	}
	return (0);
}

static void
lowercase(char *s)
{
	for (; *s != '\0'; s++)
		*s = tolower((unsigned char)*s);
}

/*
 * An IPv4 or IPv6 literal, never a name: starting must not depend on
 * DNS.
 */
static int
host_addr(const char *s, struct sockaddr_storage *ss)
{
	struct addrinfo	 hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (*s == '\0' || getaddrinfo(s, NULL, &hints, &res) != 0)
		return (-1);
	if (res->ai_addrlen > sizeof(*ss) ||
	    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
		freeaddrinfo(res);
		return (-1);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return (0);
}

static void
host_set_port(struct sockaddr_storage *ss, in_port_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int
host_string(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	socklen_t	 sslen;

	sslen = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	if (getnameinfo((const struct sockaddr *)ss, sslen, buf, len, NULL, 0,
	    NI_NUMERICHOST) != 0)
		return (-1);
	return (0);
}

/* A proxy: a domain name, stored lower-cased, or an IP literal. */
static int
proxy_host(char *dst, const char *src, size_t len, const char *what)
{
	struct sockaddr_storage	 ss;
	char			 host[NI_MAXHOST];

	if (host_addr(src, &ss) == 0) {
		if (host_string(&ss, host, sizeof(host)) == -1) {
			yyerror("%s \"%s\": cannot print address", what, src);
			return (-1);
		}
		return (copy_string(dst, host, len, what));
	}
	if (!domain_name_valid(src)) {
		yyerror("%s \"%s\": not a valid domain name or IP address",
		    what, src);
		return (-1);
	}
	if (copy_string(dst, src, len, what) == -1)
		return (-1);
	lowercase(dst);
	return (0);
}

static int
listen_add(struct xgw_listens *head, const char *addr, int64_t port,
    enum xgw_transport transport)
{
	struct sockaddr_storage	 ss;
	struct xgw_listens	*heads[2];
	struct xgw_listen	*l;
	char			 host[NI_MAXHOST];
	size_t			 i;

	if (host_addr(addr, &ss) == -1) {
		yyerror("listen on \"%s\": not an IP address", addr);
		return (-1);
	}
	host_set_port(&ss, port);

	/* s2s and SIP listeners bind in the same port space */
	heads[0] = &conf->listens;
	heads[1] = &conf->sip.listens;
	for (i = 0; i < nitems(heads); i++) {
		TAILQ_FOREACH(l, heads[i], entry) {
			if (l->ss.ss_family != ss.ss_family)
				continue;
			if (memcmp(&l->ss, &ss, ss.ss_family == AF_INET ?
			    sizeof(struct sockaddr_in) :
			    sizeof(struct sockaddr_in6)) != 0)
				continue;
			if (host_string(&ss, host, sizeof(host)) == -1)
				(void)strlcpy(host, addr, sizeof(host));
			yyerror("duplicate listen on %s port %lld", host,
			    (long long)port);
			return (-1);
		}
	}

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		yyerror("calloc: %s", strerror(errno));
		return (-1);
	}
	l->ss = ss;
	l->transport = transport;
	l->fd = -1;
	TAILQ_INSERT_TAIL(head, l, entry);
	return (0);
}

/* ADDRESS[/PREFIX], the address without host bits */
static int
trusted_add(const char *s)
{
	struct xgw_trusted	*t;
	struct sockaddr_storage	 ss;
	const char		*errstr;
	char			 addr[NI_MAXHOST], *slash;
	uint8_t			*a;
	size_t			 alen, i;
	int			 prefixlen = -1, maxlen, bits;

	if (strlcpy(addr, s, sizeof(addr)) >= sizeof(addr)) {
		yyerror("trusted: string too long");
		return (-1);
	}
	if ((slash = strrchr(addr, '/')) != NULL) {
		*slash++ = '\0';
		prefixlen = strtonum(slash, 0, 128, &errstr);
		if (errstr != NULL) {
			yyerror("trusted %s: prefix length is %s", s, errstr);
			return (-1);
		}
	}
	if (host_addr(addr, &ss) == -1) {
		yyerror("trusted %s: not an IP address", s);
		return (-1);
	}
	if (ss.ss_family == AF_INET) {
		a = (uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
		alen = 4;
	} else {
		a = (uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		alen = 16;
	}
	maxlen = alen * 8;
	if (prefixlen == -1)
		prefixlen = maxlen;
	if (prefixlen > maxlen) {
		yyerror("trusted %s: prefix length is larger than %d", s,
		    maxlen);
		return (-1);
	}
	for (i = 0; i < alen; i++) {
		bits = prefixlen - (int)i * 8;
		if (bits >= 8)
			continue;
		if (bits < 0)
			bits = 0;
		if (a[i] & (0xff >> bits)) {
			yyerror("trusted %s: host bits are set", s);
			return (-1);
		}
	}

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		yyerror("calloc: %s", strerror(errno));
		return (-1);
	}
	t->ss = ss;
	t->prefixlen = prefixlen;
	TAILQ_INSERT_TAIL(&conf->sip.trusted, t, entry);
	return (0);
}

static int
objloc_add(const void *obj, int line)
{
	struct objloc	*ol;

	if ((ol = calloc(1, sizeof(*ol))) == NULL ||
	    (ol->fname = strdup(file->name)) == NULL) {
		free(ol);
		yyerror("calloc: %s", strerror(errno));
		return (-1);
	}
	ol->obj = obj;
	ol->line = line;
	TAILQ_INSERT_TAIL(&objlocs, ol, entry);
	return (0);
}

static struct objloc *
objloc_find(const void *obj)
{
	static struct objloc	 unknown = { .fname = "?", .line = 0 };
	struct objloc		*ol;

	TAILQ_FOREACH(ol, &objlocs, entry)
		if (ol->obj == obj)
			return (ol);
	return (&unknown);
}

static void
objloc_clear(void)
{
	struct objloc	*ol;

	while ((ol = TAILQ_FIRST(&objlocs)) != NULL) {
		TAILQ_REMOVE(&objlocs, ol, entry);
		free(ol->fname);
		free(ol);
	}
}

static int
load_file(struct xgw_file *f, int secret, const char *what)
{
	char	 errbuf[PATH_MAX + 128];

	if (config_file_load(f, secret, errbuf, sizeof(errbuf)) == -1) {
		yyerror("%s: %s", what, errbuf);
		return (-1);
	}
	return (0);
}

/*
 * The dialback secret keys the HMAC of RFC 6120 dialback; a trailing
 * newline, as echo(1) leaves it, is not part of it.
 */
static int
load_secret(void)
{
	struct xgw_file	*f = &conf->secret;

	if (load_file(f, 1, "dialback secret file") == -1)
		return (-1);
	if (f->len > 0 && f->data[f->len - 1] == '\n') {
		f->data[f->len - 1] = '\0';
		f->len--;
	}
	if (f->len < XGW_SECRET_MIN) {
		yyerror("dialback secret file: %s: too short: %zu bytes, "
		    "at least %d needed", f->path, f->len, XGW_SECRET_MIN);
		return (-1);
	}
	return (0);
}

static void
domain_begin(char *name, int line)
{
	struct xgw_domain	*d;

	items = 0;
	nuserpats = 0;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("%s", __func__);
	if (!domain_name_valid(name)) {
		yyerror("domain \"%s\": not a valid domain name", name);
		/* only for the messages that follow */
		(void)strlcpy(d->name, name, sizeof(d->name));
	} else
		copy_string(d->name, name, sizeof(d->name), "domain");
	lowercase(d->name);
	TAILQ_INIT(&d->users);
	TAILQ_INSERT_TAIL(&conf->domains, d, entry);
	objloc_add(d, line);
	cur_domain = d;
}

/*
 * A pattern of local users who may use XMPP federation: fnmatch(3) on
 * the user part of their address, case-insensitive.
 */
static void
domain_user(char *pat)
{
	struct xgw_domain	*d = cur_domain;
	struct xgw_name		*n;
	const unsigned char	*s;
	unsigned int		 count = 0;

	nuserpats++;
	TAILQ_FOREACH(n, &d->users, entry)
		count++;
	for (s = (const unsigned char *)pat; *s != '\0'; s++)
		if (*s <= 0x20 || *s == 0x7f || *s == '@' || *s == '/')
			break;
	if (*pat == '\0' || *s != '\0') {
		yyerror("domain \"%s\": users: \"%s\": not a pattern of "
		    "user names (no space, '@' or '/')", d->name, pat);
		return;
	}
	if (count >= XGW_USERS_MAX) {
		yyerror("domain \"%s\": more than %d users patterns", d->name,
		    XGW_USERS_MAX);
		return;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		fatal("%s", __func__);
	if (copy_string(n->name, pat, sizeof(n->name), "users pattern")
	    == -1) {
		free(n);
		return;
	}
	TAILQ_INSERT_TAIL(&d->users, n, entry);
}

static void
domain_end(void)
{
	struct xgw_domain	*d = cur_domain;
	struct objloc		*ol;
	char			 errbuf[PATH_MAX + 128];
	int			 ok = 1;

	cur_domain = NULL;
	if (d == NULL)
		return;
	ol = objloc_find(d);
	if (d->cert.path[0] == '\0') {
		conf_error(ol->fname, ol->line, "domain \"%s\": "
		    "certificate is required", d->name);
		ok = 0;
	} else if (config_file_load(&d->cert, 0, errbuf, sizeof(errbuf))
	    == -1) {
		conf_error(ol->fname, ol->line, "domain \"%s\": "
		    "certificate: %s", d->name, errbuf);
		ok = 0;
	}
	if (d->key.path[0] == '\0') {
		conf_error(ol->fname, ol->line, "domain \"%s\": "
		    "key is required", d->name);
		ok = 0;
	} else if (config_file_load(&d->key, 1, errbuf, sizeof(errbuf))
	    == -1) {
		conf_error(ol->fname, ol->line, "domain \"%s\": key: %s",
		    d->name, errbuf);
		ok = 0;
	}
	if (ok)
		domain_keypair(d, ol->fname, ol->line);
}

/*
 * Refuse a certificate and key that libtls could not use: 0 if they
 * can, else -1 with the reason in why.
 */
static int
keypair_check(struct xgw_file *cert, struct xgw_file *key, char *why,
    size_t len)
{
	struct tls_config	*tc = NULL;
	struct tls		*t = NULL;
	int			 rv = -1;

	if (tls_init() == -1)
		(void)strlcpy(why, "tls_init failed", len);
	else if ((tc = tls_config_new()) == NULL)
		(void)strlcpy(why, "tls_config_new failed", len);
	else if (tls_config_set_keypair_mem(tc, cert->data, cert->len,
	    key->data, key->len) == -1)
		(void)strlcpy(why, tls_config_error(tc) ? tls_config_error(tc) :
		    "unknown error", len);
	else if ((t = tls_server()) == NULL)
		(void)strlcpy(why, "tls_server failed", len);
	else if (tls_configure(t, tc) == -1)
		(void)strlcpy(why, tls_error(t) ? tls_error(t) :
		    "unknown error", len);
	else
		rv = 0;
	if (t != NULL)
		tls_free(t);
	if (tc != NULL)
		tls_config_free(tc);
	return (rv);
}

static void
domain_keypair(struct xgw_domain *d, const char *fname, int line)
{
	char	 why[512];

	if (keypair_check(&d->cert, &d->key, why, sizeof(why)) == -1)
		conf_error(fname, line, "domain \"%s\": certificate and key "
		    "do not match or cannot be used: %s", d->name, why);
}

static void
partner_begin(char *name, int line)
{
	struct xgw_partner	*p;

	items = 0;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("%s", __func__);
	if (!domain_name_valid(name)) {
		yyerror("partner \"%s\": not a valid domain name", name);
		/* only for the messages that follow */
		(void)strlcpy(p->name, name, sizeof(p->name));
	} else
		copy_string(p->name, name, sizeof(p->name), "partner");
	lowercase(p->name);
	TAILQ_INIT(&p->domains);
	p->type = PTYPE_PUBLIC_UNVERIFIED;
	p->tls = NEG_REQUIRED;
	p->sasl = NEG_REQUIRED;
	p->dialback = 1;
	p->keepalive = 1;
	p->connections = 0;
	p->proxy_port = XMPP_S2S_PORT;
	TAILQ_INSERT_TAIL(&conf->partners, p, entry);
	objloc_add(p, line);
	cur_partner = p;
}

static void
partner_domain(char *name)
{
	struct xgw_partner	*p = cur_partner;
	struct xgw_name		*n;
	size_t			 count = 0;

	TAILQ_FOREACH(n, &p->domains, entry)
		count++;
	if (!domain_name_valid(name)) {
		yyerror("partner \"%s\": additional domain \"%s\": not a "
		    "valid domain name", p->name, name);
		return;
	}
	if (count >= XGW_DOMAINS_MAX) {
		yyerror("partner \"%s\": more than %d additional domains",
		    p->name, XGW_DOMAINS_MAX);
		return;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		yyerror("calloc: %s", strerror(errno));
		return;
	}
	if (copy_string(n->name, name, sizeof(n->name),
	    "additional domain") == -1) {
		free(n);
		return;
	}
	lowercase(n->name);
	TAILQ_INSERT_TAIL(&p->domains, n, entry);
}

static void
sip_begin(int line)
{
	seen_once(&seen, SEEN_SIP, "sip");
	conf->sip.configured = 1;
	items = 0;
	sip_line = line;
}

static void
sip_end(void)
{
	struct xgw_sip		*sip = &conf->sip;
	struct xgw_listen	*l;
	char			 why[512];

	if ((items & ITEM_PROXY) == 0)
		conf_error(file->name, sip_line, "sip: proxy is required");
	if ((items & (ITEM_CERT | ITEM_KEY)) == ITEM_CERT)
		conf_error(file->name, sip_line, "sip: certificate without "
		    "key");
	else if ((items & (ITEM_CERT | ITEM_KEY)) == ITEM_KEY)
		conf_error(file->name, sip_line, "sip: key without "
		    "certificate");
	else if (sip->cert.len > 0 && sip->key.len > 0 &&
	    keypair_check(&sip->cert, &sip->key, why, sizeof(why)) == -1)
		conf_error(file->name, sip_line, "sip: certificate and key "
		    "do not match or cannot be used: %s", why);
	TAILQ_FOREACH(l, &sip->listens, entry)
		if (l->transport == XPORT_TLS)
			break;
	if (l != NULL && (items & ITEM_CERT) == 0)
		conf_error(file->name, sip_line, "sip: listen on with tls "
		    "needs certificate and key");
	if ((items & ITEM_PROXY) && sip->proxy_transport != XPORT_TLS) {
		if (items & ITEM_CAFILE)
			conf_warn(file->name, sip_line, "sip: ca file is not "
			    "used: the proxy is not reached over tls");
		if ((items & ITEM_CERT) && l == NULL)
			conf_warn(file->name, sip_line, "sip: certificate is "
			    "not used: neither the proxy nor a listener is "
			    "tls");
	}
}

/*
 * The checks that need the whole configuration.  Returns the number of
 * errors.
 */
static int
conf_check(void)
{
	struct xgw_domain	*d;
	struct xgw_partner	*p, *q;
	struct xgw_name		*n, *m;
	struct objloc		*ol;
	const char		*why, *name;
	char			 errbuf[PATH_MAX + 128];
	int			 found;

	if ((seen & SEEN_CAFILE) == 0 &&
	    config_file_load(&conf->ca, 0, errbuf, sizeof(errbuf)) == -1)
		conf_error(topfile->name, 0, "ca file: %s", errbuf);
	if (TAILQ_EMPTY(&conf->domains))
		conf_error(topfile->name, 0, "no domain configured");
	if (TAILQ_EMPTY(&conf->listens))
		conf_error(topfile->name, 0, "no listen on configured");

	/* A local domain name is taken once, by the first definition. */
	TAILQ_FOREACH(d, &conf->domains, entry) {
		struct xgw_domain	*e;

		TAILQ_FOREACH(e, &conf->domains, entry) {
			if (e == d)
				break;
			if (strcmp(e->name, d->name) == 0) {
				ol = objloc_find(d);
				conf_error(ol->fname, ol->line, "domain "
				    "\"%s\": already defined", d->name);
				break;
			}
		}
	}

	/*
	 * Each name of a partner (primary, then additional) must be new:
	 * not a local domain, not a name of an earlier partner, not said
	 * twice by the same partner.
	 */
	TAILQ_FOREACH(p, &conf->partners, entry) {
		ol = objloc_find(p);
		n = NULL;
		name = p->name;
		for (;;) {
			found = 0;
			TAILQ_FOREACH(d, &conf->domains, entry) {
				if (strcmp(d->name, name) == 0) {
					conf_error(ol->fname, ol->line,
					    "domain \"%s\": is both a local "
					    "domain and a domain of partner "
					    "\"%s\"", name, p->name);
					found = 1;
					break;
				}
			}
			TAILQ_FOREACH(q, &conf->partners, entry) {
				if (found)
					break;
				if (q == p) {
					/* earlier names of p itself */
					if (n != NULL &&
					    strcmp(p->name, name) == 0)
						found = 1;
					TAILQ_FOREACH(m, &p->domains, entry) {
						if (n == NULL || m == n ||
						    found)
							break;
						if (strcmp(m->name, name) == 0)
							found = 1;
					}
					if (found)
						conf_error(ol->fname, ol->line,
						    "partner \"%s\": \"%s\" "
						    "is listed more than once",
						    p->name, name);
					break;
				}
				if (n == NULL && strcmp(q->name, name) == 0) {
					conf_error(ol->fname, ol->line,
					    "partner \"%s\": already defined",
					    name);
					found = 1;
					break;
				}
				if (strcmp(q->name, name) == 0)
					found = 1;
				TAILQ_FOREACH(m, &q->domains, entry)
					if (strcmp(m->name, name) == 0)
						found = 1;
				if (found)
					conf_error(ol->fname, ol->line,
					    "\"%s\" belongs to both partner "
					    "\"%s\" and partner \"%s\"",
					    name, q->name, p->name);
			}
			n = n == NULL ? TAILQ_FIRST(&p->domains) :
			    TAILQ_NEXT(n, entry);
			if (n == NULL)
				break;
			name = n->name;
		}
	}

	TAILQ_FOREACH(p, &conf->partners, entry) {
		ol = objloc_find(p);
		switch (partner_check_negotiation(p->tls, p->sasl,
		    p->dialback, &why)) {
		case NEGV_INVALID:
			conf_error(ol->fname, ol->line, "partner \"%s\": %s",
			    p->name, why);
			break;
		case NEGV_WARN:
			conf_warn(ol->fname, ol->line, "partner \"%s\": %s",
			    p->name, why);
			break;
		case NEGV_OK:
			break;
		}
	}

	if ((seen & SEEN_SECRET) == 0) {
		TAILQ_FOREACH(p, &conf->partners, entry) {
			if (!p->dialback)
				continue;
			ol = objloc_find(p);
			conf_error(ol->fname, ol->line, "dialback secret file "
			    "is required: partner \"%s\" uses dialback",
			    p->name);
			break;
		}
	}

	return (check_errors);
}
