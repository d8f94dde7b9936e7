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
 * Inside the tls process: XMPP server-to-server connections (tls.c does
 * sockets, libtls and timers; stream.c the RFC 6120 / XEP-0220 /
 * XEP-0178 state machine on top).
 */

#ifndef S2S_H
#define S2S_H

#include <sys/queue.h>
#include <stdint.h>
#include <event.h>
#include <tls.h>

#include "xmppgwd.h"
#include "auth.h"
#include "xml.h"

struct stanza;

#define S2S_ID_LEN		32	/* hex stream id we make */
#define S2S_ID_MAX		128	/* longest peer stream id accepted */
#define S2S_PREAUTH_BYTES	16384	/* read before authentication */
#define S2S_PREAUTH_STANZA	4096	/* largest stanza before then */
#define S2S_QUEUE_MAX		1000	/* stanzas waiting for a stream */
#define S2S_OUT_MAX		(4 * 1024 * 1024) /* unsent output */
#define S2S_MAX_DEPTH		32
#define S2S_MAX_ATTRS		64

enum conn_dir {
	CONN_IN,		/* a partner connected to us */
	CONN_OUT		/* we connected to a partner */
};

enum conn_state {
	CS_DNS,			/* out: waiting for addresses */
	CS_CONNECTING,		/* out: TCP connect in progress */
	CS_HEADER,		/* waiting for the peer's stream header */
	CS_FEATURES,		/* out: waiting for stream features */
	CS_STARTTLS,		/* out: sent <starttls/>, waiting <proceed/> */
	CS_HANDSHAKE,		/* TLS handshake */
	CS_SASL,		/* out: sent <auth/>, waiting for the result */
	CS_DIALBACK,		/* out: sent <db:result/>, waiting */
	CS_OPEN,		/* stream open; stanzas may flow if authed */
	CS_CLOSING		/* </stream:stream> sent, flushing */
};

enum auth_method {
	AUTH_NONE,
	AUTH_SASL,		/* SASL EXTERNAL */
	AUTH_DIALBACK_TLS,
	AUTH_DIALBACK_TCP
};

/* a dialback domain pair on an inbound stream */
struct db_pair {
	TAILQ_ENTRY(db_pair)	 entry;
	char			 local[XGW_NAME_MAX];
	char			 remote[XGW_NAME_MAX];
	int			 state;		/* DB_* */
	char			 key[DIALBACK_KEY_LEN + 1];
};
#define DB_PENDING	0
#define DB_VALID	1

/* a db:verify we sent on an outbound stream, for an inbound pair */
struct db_verify {
	TAILQ_ENTRY(db_verify)	 entry;
	uint32_t		 in_conn;	/* the inbound conn that asked */
	char			 local[XGW_NAME_MAX];
	char			 remote[XGW_NAME_MAX];
	char			 id[S2S_ID_MAX + 1];	/* inbound stream id */
	char			 key[DIALBACK_KEY_LEN + 1];
	int			 sent;
};

struct queued {
	TAILQ_ENTRY(queued)	 entry;
	struct xml_elem		*stanza;
	uint32_t		 report;	/* tell policy the fate; 0 no */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	uint32_t		 id;
	enum conn_dir		 dir;
	enum conn_state		 state;
	int			 fd;
	struct tls		*tls;
	struct tls_srv		*srv;		/* accepted with it */
	int			 tls_done;
	int			 tls_want;	/* TLS_WANT_POLLIN/OUT */
	int			 tls_drained;	/* a short read this pass */
	unsigned char		*tls_pend;	/* its rest of tls_in */
	size_t			 tls_pend_off, tls_pend_len;
	char			 tls_version[32];
	char			 tls_cipher[64];
	int			 cert_ok;	/* peer cert proves remote */
	char			 cert_why[256];
	struct event		 ev_read;
	struct event		 ev_write;
	struct event		 ev_timer;
	struct event		 ev_throttle;	/* limits read-rate */
	long long		 rl_tokens;	/* bytes it may read now */
	long long		 rl_last;	/* ns, CLOCK_MONOTONIC */
	int			 rl_said;	/* logged that it waits */
	struct xml_stream	*xs;
	struct xbuf		 out;
	size_t			 out_off;	/* sent of out */
	size_t			 inbytes;	/* read so far */
	char			 stream_id[S2S_ID_MAX + 1];	/* ours / theirs */
	char			 local[XGW_NAME_MAX];
	char			 remote[XGW_NAME_MAX];
	char			 addr[64];
	struct xgw_partner	*partner;	/* NULL until known */
	enum auth_method	 auth;
	time_t			 created;
	time_t			 lastread;
	int			 feat_starttls, feat_external, feat_dialback;
	int			 restarted;	/* after TLS or SASL */
	TAILQ_HEAD(, db_pair)	 pairs;		/* in: dialback pairs */
	TAILQ_HEAD(, db_verify)	 verifies;	/* out: db:verify sent */
	TAILQ_HEAD(, queued)	 queue;		/* out: waiting stanzas */
	unsigned int		 nqueued;
	/* out: addresses to try */
	struct sockaddr_storage	*addrs;
	size_t			 naddrs, nextaddr;
	int			 closing_error;	/* a stream error was sent */
	int			 restart;	/* reset the parser after feed */
	int			 legacy;	/* peer header without version */
	int			 sasl_failures;
	uint8_t			*peer_chain;	/* PEM, for certid_check */
	size_t			 peer_chain_len;
	int			 waiting_key;	/* asked dialback for a key */
	uint32_t		 probe;		/* check partner: the client */
	const char		*probe_at;	/* the step under way */
};

TAILQ_HEAD(conns, conn);

struct s2s_env {
	struct conns		 conns;
	unsigned int		 nconns;
	uint32_t		 nextid;
	struct tls_config	*srv_cfg;
	struct tls_srv		*srv;
	struct tls_config	**cli_cfg;	/* per local domain */
	size_t			 ncli;
	struct certid_ca	*ca;
};

extern struct s2s_env	 s2s;

/* tls.c */
struct conn	*conn_find(uint32_t);
struct conn	*conn_out_find(const char *, const char *);
struct conn	*conn_out_new(const char *, const char *,
		    struct xgw_partner *);
void		 conn_write(struct conn *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
void		 conn_write_elem(struct conn *, const struct xml_elem *);
void		 conn_close(struct conn *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
void		 conn_stream_error(struct conn *, const char *, const char *);
void		 conn_starttls(struct conn *);
void		 conn_schedule(struct conn *);
int		 conn_dead(struct conn *);
void		 conn_probe_step(struct conn *, const char *, const char *,
		    const char *, ...)
		    __attribute__((__format__ (printf, 4, 5)));
void		 conn_probe_end(struct conn *, int, const char *);
void		 s2s_ask_key(struct conn *, const char *, const char *,
		    const char *);
void		 s2s_ask_check(struct conn *, const char *, const char *,
		    const char *, const char *);
void		 s2s_to_policy(struct conn *, const struct xml_elem *);
void		 s2s_report(uint32_t, const char *);

/* stream.c */
struct xml_stream *stream_xml_new(struct conn *);
const char	*stream_state_name(struct conn *);
void		 stream_accepted(struct conn *);
void		 stream_connected(struct conn *);
void		 stream_tls_done(struct conn *);
void		 stream_input(struct conn *, const char *, size_t);
void		 stream_db_key(struct conn *, const char *);
void		 stream_db_checked(struct conn *, const char *, const char *,
		    const char *, int);
void		 stream_deliver(struct stanza *, uint32_t);
void		 stream_conn_gone(struct conn *);
void		 stream_bounce_queue(struct conn *, const char *,
		    const char *);
const char	*stream_auth_name(enum auth_method);

#endif /* S2S_H */
