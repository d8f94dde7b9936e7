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
 * xgwbench: the load and sink peers of "make bench", in one process so
 * that one monotonic clock stamps every message at both ends and one set
 * of counters knows at once when a run is complete.
 */

#include <stddef.h>
#include <stdint.h>
#include <tls.h>

#define MAXDOMAINS	8

struct buf {
	char	*data;
	size_t	 len;		/* bytes held */
	size_t	 off;		/* bytes already consumed or written */
	size_t	 cap;
};

enum conn_kind {
	K_XLISTEN,	/* the partner's s2s port: the gateway connects */
	K_XSINK,	/* an outbound stream of the gateway, accepted */
	K_XLOAD,	/* a stream we open to the gateway's s2s port */
	K_SLISTEN,	/* the SIP proxy's port: the gateway connects */
	K_SSINK,	/* the gateway's connection to the proxy */
	K_SLOAD,	/* our SIP connection to the gateway's listener */
	K_XIDLE		/* a stream to the gateway that stays idle */
};

struct conn {
	enum conn_kind	 kind;
	int		 fd;
	struct tls	*tls;
	int		 handshaking;
	int		 want_out;	/* a handshake step wants POLLOUT */
	int		 state;		/* the role's negotiation state */
	int		 dead;
	int		 dom;		/* index into the partner domains */
	struct buf	 in;
	struct buf	 out;
	/* the element scanner of an open XMPP stream */
	size_t		 scan;
	int		 depth;
	size_t		 estart;
	char		 peer_from[256], peer_to[256];
};

/* what one run measures */
enum dir { D_X2S, D_S2X };

struct run {
	enum dir	 dir;
	unsigned int	 id;
	uint32_t	 rate;		/* messages/s offered; 0: flat out */
	uint32_t	 count;
	uint32_t	 sent;
	uint32_t	 delivered;	/* reached the far sink */
	uint32_t	 errors;	/* error stanza or non-2xx response */
	uint32_t	 finals;	/* SIP->XMPP: final responses */
	uint32_t	 ok2xx;		/* SIP->XMPP: of which 2xx */
	uint32_t	 dups;
	uint32_t	 stale;		/* from another run */
	uint8_t		*mark;		/* per message: M_* */
	uint64_t	*t_sent;	/* ns, per message */
	uint64_t	*lat;		/* delivery latency, ns */
	uint64_t	*lat_txn;	/* SIP->XMPP: MESSAGE -> 200, ns */
	uint64_t	 t_start, t_last;
	int		 done;
};

#define M_DELIVERED	0x01
#define M_ERROR		0x02
#define M_FINAL		0x04

struct opts {
	const char	*gw_addr;	/* the gateway's s2s and SIP address */
	int		 gw_xport, gw_sport;
	const char	*partner_addr;	/* where we listen as the partner */
	int		 partner_port;
	const char	*proxy_addr;	/* where we listen as the SIP proxy */
	int		 proxy_port;
	const char	*local_domain;	/* the gateway's domain */
	const char	*domains[MAXDOMAINS];
	int		 ndomains;
	const char	*certdir;
	int		 streams;	/* inbound s2s streams */
	int		 sipconns;	/* SIP connections to the gateway */
	uint32_t	 window;	/* messages in flight, at most */
	int		 timeout;	/* seconds per run, at most */
	size_t		 bodylen;
	int		 gwpid;
	int		 quickack;
	const char	*gwpidfile;
};

extern struct opts	 opt;
extern struct run	*cur;

uint64_t	 now_ns(void);
void		 buf_add(struct buf *, const void *, size_t);
void		 buf_printf(struct buf *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
void		 buf_consume(struct buf *, size_t);
struct conn	*conn_add(enum conn_kind, int);
void		 conn_kill(struct conn *, const char *);
int		 conn_starttls_client(struct conn *, struct tls_config *,
		    const char *);
int		 conn_starttls_server(struct conn *, struct tls *);
int		 conn_count(enum conn_kind, int);
struct conn	*conn_next(enum conn_kind, int, int *);
int		 tcp_connect(const char *, int, const char *);
int		 tcp_listen(const char *, int);
void		 fatalx_(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2), __noreturn__));
void		 record_delivery(unsigned int, uint32_t, uint64_t);
void		 record_error(unsigned int, uint32_t);
void		 record_final(unsigned int, uint32_t, int);

/* xmpp.c */
void		 xmpp_init(void);
void		 xmpp_input(struct conn *);
void		 xmpp_tls_done(struct conn *);
int		 xmpp_ready(void);
void		 xmpp_send(uint32_t);
void		 xmpp_idle_open(int);
int		 xmpp_idle_ready(void);

/* sip.c */
void		 sip_input(struct conn *);
int		 sip_ready(void);
void		 sip_send(uint32_t);
