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

#ifndef XMPPGWD_H
#define XMPPGWD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <event.h>

#include "imsg.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR		"/etc"
#endif
#define XMPPGWD_CONF		SYSCONFDIR "/xmppgwd/xmppgwd.conf"
#define XMPPGWD_SOCKET		"/run/xmppgwd.sock"
#define XMPPGWD_USER		"_xmppgwd"
#define XMPPGWD_CHROOT		"/var/empty"
#define XMPPGWD_STATEDIR	"/var/db/xmppgwd"
#define XMPPGWD_CAFILE		"/etc/ssl/certs/ca-certificates.crt"

#define XMPP_S2S_PORT		5269
#define SIP_PORT		5060
#define SIPS_PORT		5061

#define XGW_NAME_MAX		256	/* DNS name (253) + NUL, rounded */
#define XGW_DESCR_MAX		256
#define XGW_USER_MAX		33
#define XGW_OPTION_MAX		256
#define XGW_FILE_MAX		(1024 * 1024)	/* cert, key, CA bundle */
#define XGW_SECRET_MIN		16	/* bytes of dialback secret */
#define XGW_PREFORK_MAX		32
#define XGW_DOMAINS_MAX		64	/* additional domains per partner */
#define XGW_USERS_MAX		1024	/* user patterns per local domain */
#define XGW_SIP_ADDRS_MAX	8	/* addresses of the SIP proxy tried */
#define XGW_SIP_RESOLVE_RETRY	60	/* s between lookups that failed */
#define XGW_SIP_LOOKUP_TIMEOUT	60	/* s a lookup may take */

#define XGW_IMSG_MAXSIZE	(2 * 1024 * 1024) /* between our processes */
/* a stanza's decoded fields never exceed its XML: it always fits */
#define XGW_STANZA_MAX		(1024 * 1024)
#define XGW_CTL_MAXSIZE		(64 * 1024)	/* on the control socket */
#define XGW_BLOB_CHUNK		(48 * 1024)	/* file contents per imsg */

/* defaults, after the model product (Lync Server 2013) */
#define XGW_DEF_PREFORK		2
#define XGW_DEF_CONNECTIONS	1000
#define XGW_DEF_PER_PARTNER	20
#define XGW_DEF_STANZA_SIZE	262144
#define XGW_DEF_READ_RATE	1048576
#define XGW_DEF_ESTABLISH	60
#define XGW_DEF_IDLE		600
#define XGW_DEF_KEEPALIVE	300
#define XGW_DEF_SUBREFRESH	28800

/* restart policy for crashed children */
#define XGW_RESTART_MAX		5	/* restarts of one process ... */
#define XGW_RESTART_WINDOW	60	/* ... within this many seconds */

#ifndef nitems
#define nitems(_a)		(sizeof((_a)) / sizeof((_a)[0]))
#endif

/*
 * Configuration, as parsed by the parent (parse.y) and rebuilt by each
 * child from imsg (config.c).  Nothing here holds a pointer that crosses
 * a process boundary.
 */

enum xgw_ptype {
	PTYPE_FEDERATED,
	PTYPE_PUBLIC_VERIFIED,
	PTYPE_PUBLIC_UNVERIFIED
};

enum xgw_neg {
	NEG_REQUIRED,
	NEG_OPTIONAL,
	NEG_NOT_SUPPORTED
};

enum xgw_verdict {
	NEGV_OK,
	NEGV_WARN,
	NEGV_INVALID
};

enum xgw_transport {
	XPORT_TCP,
	XPORT_TLS
};

struct xgw_name {
	TAILQ_ENTRY(xgw_name)	 entry;
	char			 name[XGW_NAME_MAX];
};
TAILQ_HEAD(xgw_names, xgw_name);

/* A file the parent reads as root and hands to the child that needs it. */
struct xgw_file {
	char			 path[PATH_MAX];
	uint8_t			*data;
	size_t			 len;
};

struct xgw_domain {
	TAILQ_ENTRY(xgw_domain)	 entry;
	char			 name[XGW_NAME_MAX];
	struct xgw_file		 cert;
	struct xgw_file		 key;
	struct xgw_names	 users;		/* patterns; empty: all */
};
TAILQ_HEAD(xgw_domains, xgw_domain);

struct xgw_listen {
	TAILQ_ENTRY(xgw_listen)	 entry;
	struct sockaddr_storage	 ss;		/* address and port */
	enum xgw_transport	 transport;	/* XPORT_TLS: direct TLS */
	int			 fd;		/* bound socket, or -1 */
};
TAILQ_HEAD(xgw_listens, xgw_listen);

struct xgw_partner {
	TAILQ_ENTRY(xgw_partner) entry;
	char			 name[XGW_NAME_MAX];	/* primary domain */
	char			 descr[XGW_DESCR_MAX];
	struct xgw_names	 domains;		/* additional */
	enum xgw_ptype		 type;
	enum xgw_neg		 tls;
	enum xgw_neg		 sasl;
	int			 dialback;
	int			 keepalive;
	unsigned int		 connections;	/* 0: limits per-partner */
	char			 proxy[XGW_NAME_MAX];	/* "" if none */
	in_port_t		 proxy_port;
};
TAILQ_HEAD(xgw_partners, xgw_partner);

struct xgw_trusted {
	TAILQ_ENTRY(xgw_trusted) entry;
	struct sockaddr_storage	 ss;		/* network address */
	int			 prefixlen;
};
TAILQ_HEAD(xgw_trusteds, xgw_trusted);

struct xgw_option {
	TAILQ_ENTRY(xgw_option)	 entry;
	char			 name[XGW_OPTION_MAX];
	char			 value[XGW_OPTION_MAX];
};
TAILQ_HEAD(xgw_options, xgw_option);

struct xgw_sip {
	int			 configured;	/* a sip block was seen */
	char			 proxy[XGW_NAME_MAX];	/* name or address */
	in_port_t		 proxy_port;
	enum xgw_transport	 proxy_transport;
	/*
	 * The proxy's addresses, in the order to try them: looked up for
	 * the parent (the sip process has no DNS) at each load.
	 */
	struct sockaddr_storage	 proxy_addrs[XGW_SIP_ADDRS_MAX];
	unsigned int		 proxy_naddrs;
	/* where the proxy statement is, for the parent's messages */
	char			 proxy_file[PATH_MAX];
	int			 proxy_line;
	struct xgw_file		 ca;	/* path "": the global ca file */
	struct xgw_file		 cert;	/* for mutual TLS; path "": none */
	struct xgw_file		 key;
	struct xgw_listens	 listens;
	struct xgw_trusteds	 trusted;
};

struct xgw_limits {
	unsigned int		 connections;
	unsigned int		 per_partner;
	unsigned int		 stanza_size;
	unsigned int		 read_rate;	/* bytes/s a stream; 0 none */
};

struct xgw_timeouts {
	unsigned int		 establish;
	unsigned int		 idle;
	unsigned int		 keepalive;
	unsigned int		 subscription_refresh;
};

struct xgw_config {
	char			 user[XGW_USER_MAX];
	char			 chroot[PATH_MAX];
	char			 statedir[PATH_MAX];
	char			 socket[PATH_MAX];
	unsigned int		 prefork;
	struct xgw_file		 ca;
	struct xgw_file		 secret;	/* dialback secret */
	struct xgw_names	 resolvers;	/* IP address literals */
	struct xgw_options	 resolver_options;
	/*
	 * Read by the parent for the dialback process, which cannot see
	 * /etc in its chroot: /etc/hosts entries (name, address), and the
	 * nameservers of /etc/resolv.conf when no resolver is configured.
	 */
	struct xgw_options	 hosts;
	struct xgw_limits	 limits;
	struct xgw_timeouts	 timeouts;
	struct xgw_domains	 domains;	/* local domains */
	struct xgw_listens	 listens;	/* s2s listeners */
	struct xgw_partners	 partners;
	struct xgw_sip		 sip;
};

/* parse.y */
#define XGW_OPT_NOACTION	0x01	/* -n: check only */
#define XGW_OPT_VERBOSE		0x02
struct keywords {
	const char		*k_name;
	int			 k_val;
};
struct xgw_config *parse_config(const char *, int);
int		 cmdline_symset(char *);
const struct keywords *parse_keywords(size_t *);

/* printconf.c */
void		 print_config(FILE *, struct xgw_config *);

/* config.c */
struct xgw_config *config_new(void);
void		 config_free(struct xgw_config *);
int		 config_file_load(struct xgw_file *, int, char *, size_t);
int		 config_sip_resolve(struct xgw_sip *, char *, size_t);
int		 config_sip_is_name(const struct xgw_sip *);
const char	*config_sockaddr(const struct sockaddr_storage *, char *,
		    size_t);

/* partner.c: pure partner-settings logic */
const char	*partner_type_name(enum xgw_ptype);
const char	*partner_neg_name(enum xgw_neg);
enum xgw_verdict partner_check_negotiation(enum xgw_neg, enum xgw_neg, int,
		    const char **);
int		 domain_name_valid(const char *);

/*
 * Processes.  The parent spawns every child by fork and re-exec with a
 * role flag; the children talk to the parent on fd PROC_PARENT_FD and to
 * each other over socketpairs the parent hands out (IMSG_PROCFD).
 */
enum privsep_procid {
	PROC_PARENT,
	PROC_TLS,
	PROC_DIALBACK,
	PROC_POLICY,
	PROC_SIP,
	PROC_MAX
};

#define PROC_PARENT_FD		3

struct imsgev {
	struct imsgbuf		 ibuf;
	struct event		 ev;		/* readable, always armed */
	struct event		 wev;		/* writable, when a write blocked */
	int			 armed;		/* ev and wev are set */
	int			 flushing;	/* on the end-of-pass list */
	TAILQ_ENTRY(imsgev)	 flush_entry;
	int			 up;
	enum privsep_procid	 procid;	/* the other end */
	unsigned int		 instance;
	void			(*handler)(int, short, void *);
	void			*data;
	long long		 work_ns;	/* last read work to pass on */
	long long		 answer_ns;	/* last read only an answer */
};

/* IMSG_PRIVSEP: what a child needs to drop privileges */
struct privsep_setup {
	uint32_t		 uid;
	uint32_t		 gid;
	uint32_t		 prefork;
	uint32_t		 verbose;
	char			 chroot[PATH_MAX];
};

/* IMSG_PROCFD: the fd is a channel to this peer */
struct privsep_fd {
	uint32_t		 procid;
	uint32_t		 instance;
};

/* What each role plugs into the common child code in proc.c. */
struct proc_role {
	const char		*title;
	enum privsep_procid	 id;
	/* after the privilege drop, before any configuration */
	void			(*init)(void);
	/* a complete new configuration; old is NULL the first time */
	void			(*configure)(struct xgw_config *,
				    struct xgw_config *);
	/* the parent says every process is configured: serve */
	void			(*start)(void);
	/* role messages from the parent or a sibling; -1: unknown */
	int			(*dispatch)(struct imsgev *, struct imsg *);
	/* a sibling's channel closed (it died; a new one will come) */
	void			(*peer_down)(enum privsep_procid,
				    unsigned int);
	void			(*shutdown)(void);
	int			 paced;		/* under load: see proc_loop */
};

extern const struct proc_role tls_role, dialback_role, policy_role,
	    sip_role;

/* proc.c */
extern struct xgw_config *proc_conf;	/* a child's current config */
extern unsigned int	  proc_instance;
extern unsigned int	  proc_prefork;
const char	*proc_title(enum privsep_procid);
enum privsep_procid proc_byname(const char *);
__attribute__((__noreturn__)) void proc_child(const struct proc_role *,
		    unsigned int);
void		 imsgev_init(struct imsgev *, int, enum privsep_procid,
		    unsigned int, void (*)(int, short, void *), void *);
void		 imsgev_add(struct imsgev *);
void		 imsgev_flush(void);
void		 imsgev_clear(struct imsgev *);
int		 imsgev_compose(struct imsgev *, uint32_t, uint32_t, int,
		    const void *, size_t);
int		 imsgev_composev(struct imsgev *, uint32_t, uint32_t, int,
		    const struct iovec *, int);
struct imsgev	*proc_peer(enum privsep_procid, unsigned int);
void		 sock_nodelay(int);
#define PROC_PACE_US	7000	/* under load, input is taken this often */
void		 proc_loop(struct event_base *, long);
void		 proc_input(void);
#define PROC_READS	16	/* reads per descriptor and pass, at most */

/* tlssrv.c: a server context that outlives a reload while in use */
struct tls;
struct tls_srv;
struct tls_srv	*tls_srv_new(struct tls *);
struct tls	*tls_srv_ctx(struct tls_srv *);
struct tls_srv	*tls_srv_hold(struct tls_srv *);
void		 tls_srv_drop(struct tls_srv *);
void		 tls_srv_retire(struct tls_srv *);
int		 proc_compose(enum privsep_procid, unsigned int, uint32_t,
		    uint32_t, int, const void *, size_t);
void		 imsg_fatal_size(struct imsg *, const char *);

/* control.c, in the policy process */
void		 control_listen(int);
int		 control_relay(struct imsg *);
int		 control_streams_relay(struct imsg *, unsigned int);
int		 control_check_relay(struct imsg *, unsigned int);
void		 control_streams_gone(unsigned int);

/* policy.c, for the control socket */
void		 policy_counters(struct imsgev *);
int		 policy_authorize(const char *, const char *, char *, size_t);
int		 policy_revoke(const char *, const char *, char *, size_t);
void		 policy_auth_list(struct imsgev *, const char *);

/* sandbox.c */
void		 sandbox_drop(const char *, uid_t, gid_t);
void		 sandbox_filter(enum privsep_procid);

/* config.c, the transfer */
void		 config_set(struct imsgev *, struct xgw_config *, int,
		    uint32_t);
int		 config_get(struct imsg *, struct xgw_config **, uint32_t *);
void		 config_msg(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
void		 config_msg_capture(char **);

/* partner.c: the partner record on imsg (config and control socket) */
int		 partner_encode(struct ibuf *, const struct xgw_partner *);
int		 partner_decode(struct imsg_cursor *, struct xgw_partner *);
void		 partner_free_domains(struct xgw_partner *);
struct xgw_partner *partner_find(struct xgw_config *, const char *);
int		 partner_has_domain(const struct xgw_partner *, const char *);
int		 domain_is_local(struct xgw_config *, const char *);
unsigned int	 domain_instance(const char *, unsigned int);

#endif /* XMPPGWD_H */
