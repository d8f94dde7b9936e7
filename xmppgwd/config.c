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
 * The configuration object: defaults, loading of the files it names, and
 * its transfer from the parent to the children over imsg (config_set*
 * in the parent, config_get* in a child, with a done barrier).
 */

#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <unistd.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"

struct xgw_config *
config_new(void)
{
	struct xgw_config	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return (NULL);
	(void)strlcpy(conf->user, XMPPGWD_USER, sizeof(conf->user));
	(void)strlcpy(conf->chroot, XMPPGWD_CHROOT, sizeof(conf->chroot));
	(void)strlcpy(conf->statedir, XMPPGWD_STATEDIR,
	    sizeof(conf->statedir));
	(void)strlcpy(conf->socket, XMPPGWD_SOCKET, sizeof(conf->socket));
	(void)strlcpy(conf->ca.path, XMPPGWD_CAFILE, sizeof(conf->ca.path));
	conf->prefork = XGW_DEF_PREFORK;
	conf->limits.connections = XGW_DEF_CONNECTIONS;
	conf->limits.per_partner = XGW_DEF_PER_PARTNER;
	conf->limits.stanza_size = XGW_DEF_STANZA_SIZE;
	conf->limits.read_rate = XGW_DEF_READ_RATE;
	conf->timeouts.establish = XGW_DEF_ESTABLISH;
	conf->timeouts.idle = XGW_DEF_IDLE;
	conf->timeouts.keepalive = XGW_DEF_KEEPALIVE;
	conf->timeouts.subscription_refresh = XGW_DEF_SUBREFRESH;
	TAILQ_INIT(&conf->resolvers);
	TAILQ_INIT(&conf->resolver_options);
	TAILQ_INIT(&conf->hosts);
	TAILQ_INIT(&conf->domains);
	TAILQ_INIT(&conf->listens);
	TAILQ_INIT(&conf->partners);
	TAILQ_INIT(&conf->sip.listens);
	TAILQ_INIT(&conf->sip.trusted);
	conf->sip.proxy_port = SIP_PORT;
	conf->sip.proxy_transport = XPORT_TCP;
	return (conf);
}

static void
config_file_free(struct xgw_file *f)
{
	if (f->data != NULL)
		freezero(f->data, f->len);
	f->data = NULL;
	f->len = 0;
}

static void
config_names_free(struct xgw_names *names)
{
	struct xgw_name	*n;

	while ((n = TAILQ_FIRST(names)) != NULL) {
		TAILQ_REMOVE(names, n, entry);
		free(n);
	}
}

static void
config_listens_free(struct xgw_listens *listens)
{
	struct xgw_listen	*l;

	while ((l = TAILQ_FIRST(listens)) != NULL) {
		TAILQ_REMOVE(listens, l, entry);
		if (l->fd != -1)
			close(l->fd);
		free(l);
	}
}

void
config_free(struct xgw_config *conf)
{
	struct xgw_domain	*d;
	struct xgw_partner	*p;
	struct xgw_trusted	*t;
	struct xgw_option	*o;

	if (conf == NULL)
		return;
	config_file_free(&conf->ca);
	config_file_free(&conf->secret);
	config_names_free(&conf->resolvers);
	while ((o = TAILQ_FIRST(&conf->resolver_options)) != NULL) {
		TAILQ_REMOVE(&conf->resolver_options, o, entry);
		free(o);
	}
	while ((o = TAILQ_FIRST(&conf->hosts)) != NULL) {
		TAILQ_REMOVE(&conf->hosts, o, entry);
		free(o);
	}
	while ((d = TAILQ_FIRST(&conf->domains)) != NULL) {
		TAILQ_REMOVE(&conf->domains, d, entry);
		config_file_free(&d->cert);
		config_file_free(&d->key);
		config_names_free(&d->users);
		free(d);
	}
	config_listens_free(&conf->listens);
	while ((p = TAILQ_FIRST(&conf->partners)) != NULL) {
		TAILQ_REMOVE(&conf->partners, p, entry);
		config_names_free(&p->domains);
		free(p);
	}
	config_file_free(&conf->sip.ca);
	config_file_free(&conf->sip.cert);
	config_file_free(&conf->sip.key);
	config_listens_free(&conf->sip.listens);
	while ((t = TAILQ_FIRST(&conf->sip.trusted)) != NULL) {
		TAILQ_REMOVE(&conf->sip.trusted, t, entry);
		free(t);
	}
	freezero(conf, sizeof(*conf));
}

/*
 * Read the file named by f->path into memory.  Files holding secrets (a
 * private key, the dialback secret) must not be readable or writable by
 * others.  On failure errbuf says why, naming the file.
 */
int
config_file_load(struct xgw_file *f, int secret, char *errbuf, size_t errlen)
{
	struct stat	 st;
	uint8_t		*buf = NULL;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	config_file_free(f);
	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(errbuf, errlen, "%s: %s", f->path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(errbuf, errlen, "%s: %s", f->path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(errbuf, errlen, "%s: not a regular file", f->path);
		goto fail;
	}
	if (secret && (st.st_mode & (S_IROTH | S_IWOTH))) {
		snprintf(errbuf, errlen, "%s: is accessible by others; "
		    "chmod o-rwx %s", f->path, f->path);
		goto fail;
	}
	if (st.st_size == 0) {
		snprintf(errbuf, errlen, "%s: is empty", f->path);
		goto fail;
	}
	if (st.st_size > XGW_FILE_MAX) {
		snprintf(errbuf, errlen, "%s: larger than %d bytes", f->path,
		    XGW_FILE_MAX);
		goto fail;
	}
	if ((buf = malloc(st.st_size)) == NULL) {
		snprintf(errbuf, errlen, "%s: %s", f->path, strerror(errno));
		goto fail;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(errbuf, errlen, "%s: %s", f->path,
			    n == 0 ? "file shrank while read" :
			    strerror(errno));
			goto fail;
		}
		off += n;
	}
	close(fd);
	f->data = buf;
	f->len = off;
	return (0);
 fail:
	if (buf != NULL)
		freezero(buf, st.st_size);
	close(fd);
	return (-1);
}

/* The proxy is a name to look up, not an address literal. */
int
config_sip_is_name(const struct xgw_sip *sip)
{
	struct in6_addr	 a;

	return (inet_pton(AF_INET, sip->proxy, &a) != 1 &&
	    inet_pton(AF_INET6, sip->proxy, &a) != 1);
}

/*
 * Fill sip->proxy_addrs with the proxy's addresses, in the order
 * getaddrinfo(3) gives them, at most XGW_SIP_ADDRS_MAX.  For a name,
 * in the parent's lookup process (xmppgwd.c), at each load: the sip
 * process is chrooted and has no resolver, and the proxy is an
 * enterprise host that the system's resolver (with /etc/hosts) knows,
 * not the resolver the dialback process asks for partners.  Returns
 * the number of addresses; with none, errbuf says why.
 */
int
config_sip_resolve(struct xgw_sip *sip, char *errbuf, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	char		 port[8];
	int		 rv;

	sip->proxy_naddrs = 0;
	memset(sip->proxy_addrs, 0, sizeof(sip->proxy_addrs));
	if (!sip->configured)
		return (0);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if (!config_sip_is_name(sip))
		hints.ai_flags = AI_NUMERICHOST;
	(void)snprintf(port, sizeof(port), "%u", sip->proxy_port);
	if ((rv = getaddrinfo(sip->proxy, port, &hints, &res)) != 0) {
		snprintf(errbuf, errlen, "sip proxy \"%s\": %s", sip->proxy,
		    rv == EAI_SYSTEM ? strerror(errno) : gai_strerror(rv));
		return (0);
	}
	for (ai = res; ai != NULL && sip->proxy_naddrs < XGW_SIP_ADDRS_MAX;
	    ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(struct sockaddr_storage))
			continue;
		memcpy(&sip->proxy_addrs[sip->proxy_naddrs++], ai->ai_addr,
		    ai->ai_addrlen);
	}
	freeaddrinfo(res);
	if (sip->proxy_naddrs == 0)
		snprintf(errbuf, errlen, "sip proxy \"%s\": no IPv4 or IPv6 "
		    "address", sip->proxy);
	return (sip->proxy_naddrs);
}

/* "127.0.0.1:5269" or "[::1]:5269"; port omitted when 0 */
const char *
config_sockaddr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char		 host[INET6_ADDRSTRLEN];
	in_port_t	 port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		if (port)
			snprintf(buf, len, "%s:%u", host, port);
		else
			snprintf(buf, len, "%s", host);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		if (port)
			snprintf(buf, len, "[%s]:%u", host, port);
		else
			snprintf(buf, len, "%s", host);
	} else
		snprintf(buf, len, "(unknown address family)");
	return (buf);
}

/*
 * Where parse.y's "file:line: message" lines go: stderr, or a buffer
 * the parent returns to xmppgwctl after a refused reload.
 */
static char	**config_capture;

void
config_msg_capture(char **buf)
{
	config_capture = buf;
}

void
config_msg(const char *fmt, ...)
{
	va_list	 ap;
	char	*line, *nbuf;
	size_t	 old;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		line = NULL;
	va_end(ap);
	if (line == NULL) {
		fprintf(stderr, "config_msg: out of memory\n");
		return;
	}
	if (config_capture == NULL)
		fprintf(stderr, "%s\n", line);
	else {
		old = *config_capture ? strlen(*config_capture) : 0;
		if ((nbuf = realloc(*config_capture,
		    old + strlen(line) + 2)) != NULL) {
			nbuf[old] = '\0';
			strlcat(nbuf, line, old + strlen(line) + 2);
			strlcat(nbuf, "\n", old + strlen(line) + 2);
			*config_capture = nbuf;
		}
	}
	free(line);
}

/*
 * The transfer.  Each role gets what it needs and nothing else: only
 * dialback sees the secret, only tls the domains' certificates and
 * keys, only sip its own and the CA it checks the proxy with.
 */
enum config_filekind {
	CFILE_CA = 1,
	CFILE_SECRET,
	CFILE_CERT,
	CFILE_KEY,
	CFILE_SIP_CA,
	CFILE_SIP_CERT,
	CFILE_SIP_KEY
};

static void
config_compose(struct imsgev *iev, struct ibuf *b)
{
	if (b == NULL)
		fatal("%s: imsg_create", __func__);
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
}

static struct ibuf *
config_create(struct imsgev *iev, uint32_t type, size_t len)
{
	struct ibuf	*b;

	if ((b = imsg_create(&iev->ibuf, type, 0, 0, len)) == NULL)
		fatal("%s: imsg_create", __func__);
	return (b);
}

static void
config_set_file(struct imsgev *iev, struct xgw_file *f, uint32_t kind,
    uint32_t index)
{
	struct ibuf	*b;
	size_t		 off, n;

	for (off = 0; off < f->len; off += n) {
		n = f->len - off;
		if (n > XGW_BLOB_CHUNK)
			n = XGW_BLOB_CHUNK;
		b = config_create(iev, IMSG_CFG_FILE, n + 16);
		if (imsg_add_u32(b, kind) == -1 ||
		    imsg_add_u32(b, index) == -1 ||
		    imsg_add_u32(b, off) == -1 ||
		    imsg_add_u32(b, n) == -1 ||
		    imsg_add(b, f->data + off, n) == -1)
			fatal("%s: imsg_add", __func__);
		config_compose(iev, b);
	}
}

static void
config_set_listen(struct imsgev *iev, uint32_t type, struct xgw_listen *l)
{
	struct iovec	 iov[3];
	uint32_t	 transport = l->transport, sslen = sizeof(l->ss);
	int		 fd = -1;

	if (l->fd != -1 && (fd = dup(l->fd)) == -1)
		fatal("%s: dup", __func__);
	iov[0].iov_base = &transport;
	iov[0].iov_len = sizeof(transport);
	iov[1].iov_base = &sslen;
	iov[1].iov_len = sizeof(sslen);
	iov[2].iov_base = &l->ss;
	iov[2].iov_len = sizeof(l->ss);
	if (imsgev_composev(iev, type, 0, fd, iov, 3) == -1)
		fatal("%s: imsg_composev", __func__);
}

static void
config_set_global(struct imsgev *iev, struct xgw_config *conf)
{
	struct ibuf	*b;

	b = config_create(iev, IMSG_CFG_GLOBAL, 64);
	if (imsg_add_u32(b, conf->prefork) == -1 ||
	    imsg_add_u32(b, conf->limits.connections) == -1 ||
	    imsg_add_u32(b, conf->limits.per_partner) == -1 ||
	    imsg_add_u32(b, conf->limits.stanza_size) == -1 ||
	    imsg_add_u32(b, conf->limits.read_rate) == -1 ||
	    imsg_add_u32(b, conf->timeouts.establish) == -1 ||
	    imsg_add_u32(b, conf->timeouts.idle) == -1 ||
	    imsg_add_u32(b, conf->timeouts.keepalive) == -1 ||
	    imsg_add_u32(b, conf->timeouts.subscription_refresh) == -1 ||
	    imsg_add_string(b, conf->statedir) == -1)
		fatal("%s: imsg_add", __func__);
	config_compose(iev, b);
}

static void
config_set_option(struct imsgev *iev, uint32_t kind, const char *name,
    const char *value)
{
	struct ibuf	*b;

	b = config_create(iev, IMSG_CFG_RESOLVER, 64);
	if (imsg_add_u32(b, kind) == -1 ||
	    imsg_add_string(b, name) == -1 ||
	    imsg_add_string(b, value) == -1)
		fatal("%s: imsg_add", __func__);
	config_compose(iev, b);
}

/*
 * The dialback process cannot read /etc in its chroot: the parent
 * hands it the nameservers of /etc/resolv.conf (when the configuration
 * names no resolver) and the entries of /etc/hosts.
 */
static void
config_set_system(struct imsgev *iev, struct xgw_config *conf)
{
	struct sockaddr_storage	 ss;
	FILE			*f;
	char			*line = NULL, *p, *addr, *name, *save;
	size_t			 sz = 0;
	unsigned int		 n = 0;

	if (TAILQ_EMPTY(&conf->resolvers) &&
	    (f = fopen("/etc/resolv.conf", "re")) != NULL) {
		while (getline(&line, &sz, f) != -1 && n < 8) {
			if ((p = strtok_r(line, " \t\r\n", &save)) == NULL ||
			    strcmp(p, "nameserver") != 0 ||
			    (addr = strtok_r(NULL, " \t\r\n", &save)) == NULL)
				continue;
			if (inet_pton(AF_INET, addr, &ss) == 1 ||
			    inet_pton(AF_INET6, addr, &ss) == 1) {
				config_set_option(iev, 0, addr, "");
				n++;
			}
		}
		fclose(f);
	}
	if ((f = fopen("/etc/hosts", "re")) != NULL) {
		n = 0;
		while (getline(&line, &sz, f) != -1 && n < 1024) {
			if ((p = strchr(line, '#')) != NULL)
				*p = '\0';
			if ((addr = strtok_r(line, " \t\r\n", &save)) == NULL ||
			    (inet_pton(AF_INET, addr, &ss) != 1 &&
			    inet_pton(AF_INET6, addr, &ss) != 1))
				continue;
			while ((name = strtok_r(NULL, " \t\r\n", &save))
			    != NULL && n < 1024) {
				if (!domain_name_valid(name) ||
				    strlen(addr) >= XGW_OPTION_MAX)
					continue;
				config_set_option(iev, 2, name, addr);
				n++;
			}
		}
		fclose(f);
	}
	free(line);
}

static void
config_set_resolver(struct imsgev *iev, struct xgw_config *conf)
{
	struct xgw_name		*n;
	struct xgw_option	*o;
	struct ibuf		*b;

	TAILQ_FOREACH(n, &conf->resolvers, entry) {
		b = config_create(iev, IMSG_CFG_RESOLVER, 64);
		if (imsg_add_u32(b, 0) == -1 ||
		    imsg_add_string(b, n->name) == -1 ||
		    imsg_add_string(b, "") == -1)
			fatal("%s: imsg_add", __func__);
		config_compose(iev, b);
	}
	TAILQ_FOREACH(o, &conf->resolver_options, entry) {
		b = config_create(iev, IMSG_CFG_RESOLVER, 64);
		if (imsg_add_u32(b, 1) == -1 ||
		    imsg_add_string(b, o->name) == -1 ||
		    imsg_add_string(b, o->value) == -1)
			fatal("%s: imsg_add", __func__);
		config_compose(iev, b);
	}
}

static void
config_set_sip(struct imsgev *iev, struct xgw_config *conf, int fds)
{
	struct xgw_listen	*l;
	struct xgw_trusted	*t;
	struct ibuf		*b;
	unsigned int		 i;

	b = config_create(iev, IMSG_CFG_SIP, 64 + conf->sip.proxy_naddrs *
	    sizeof(struct sockaddr_storage));
	if (imsg_add_u32(b, conf->sip.configured) == -1 ||
	    imsg_add_string(b, conf->sip.proxy) == -1 ||
	    imsg_add_u32(b, conf->sip.proxy_port) == -1 ||
	    imsg_add_u32(b, conf->sip.proxy_transport) == -1 ||
	    imsg_add_u32(b, conf->sip.proxy_naddrs) == -1)
		fatal("%s: imsg_add", __func__);
	for (i = 0; i < conf->sip.proxy_naddrs; i++)
		if (imsg_add(b, &conf->sip.proxy_addrs[i],
		    sizeof(conf->sip.proxy_addrs[i])) == -1)
			fatal("%s: imsg_add", __func__);
	config_compose(iev, b);
	if (!fds)
		return;
	if (conf->sip.proxy_transport == XPORT_TLS) {
		if (conf->sip.ca.len > 0)
			config_set_file(iev, &conf->sip.ca, CFILE_SIP_CA, 0);
		else
			config_set_file(iev, &conf->ca, CFILE_CA, 0);
	}
	/* for mutual TLS with the proxy and for the tls listeners */
	config_set_file(iev, &conf->sip.cert, CFILE_SIP_CERT, 0);
	config_set_file(iev, &conf->sip.key, CFILE_SIP_KEY, 0);
	TAILQ_FOREACH(l, &conf->sip.listens, entry)
		config_set_listen(iev, IMSG_CFG_SIP_LISTEN, l);
	TAILQ_FOREACH(t, &conf->sip.trusted, entry) {
		b = config_create(iev, IMSG_CFG_SIP_TRUSTED, sizeof(t->ss) + 8);
		if (imsg_add_u32(b, t->prefixlen) == -1 ||
		    imsg_add_u32(b, sizeof(t->ss)) == -1 ||
		    imsg_add(b, &t->ss, sizeof(t->ss)) == -1)
			fatal("%s: imsg_add", __func__);
		config_compose(iev, b);
	}
}

/*
 * Send the whole configuration to one child, then IMSG_CFG_DONE with
 * seq; the child answers IMSG_CFG_DONE with the same seq once it runs
 * with it.
 */
void
config_set(struct imsgev *iev, struct xgw_config *conf,
    int procid, uint32_t seq)
{
	struct xgw_domain	*d;
	struct xgw_listen	*l;
	struct xgw_partner	*p;
	struct ibuf		*b;
	uint32_t		 i = 0;

	config_set_global(iev, conf);
	if (procid == PROC_TLS)
		config_set_file(iev, &conf->ca, CFILE_CA, 0);
	if (procid == PROC_DIALBACK) {
		config_set_file(iev, &conf->secret, CFILE_SECRET, 0);
		config_set_resolver(iev, conf);
		config_set_system(iev, conf);
	}
	TAILQ_FOREACH(d, &conf->domains, entry) {
		struct xgw_name	*n;
		uint32_t	 nusers = 0;

		TAILQ_FOREACH(n, &d->users, entry)
			nusers++;
		b = config_create(iev, IMSG_CFG_DOMAIN, 64);
		if (imsg_add_string(b, d->name) == -1 ||
		    imsg_add_u32(b, nusers) == -1)
			fatal("%s: imsg_add", __func__);
		TAILQ_FOREACH(n, &d->users, entry)
			if (imsg_add_string(b, n->name) == -1)
				fatal("%s: imsg_add", __func__);
		config_compose(iev, b);
		if (procid == PROC_TLS) {
			config_set_file(iev, &d->cert, CFILE_CERT, i);
			config_set_file(iev, &d->key, CFILE_KEY, i);
		}
		i++;
	}
	if (procid == PROC_TLS)
		TAILQ_FOREACH(l, &conf->listens, entry)
			config_set_listen(iev, IMSG_CFG_LISTEN, l);
	TAILQ_FOREACH(p, &conf->partners, entry) {
		b = config_create(iev, IMSG_CFG_PARTNER, 256);
		if (partner_encode(b, p) == -1)
			fatal("%s: partner_encode", __func__);
		config_compose(iev, b);
	}
	if (procid == PROC_SIP || procid == PROC_POLICY)
		config_set_sip(iev, conf, procid == PROC_SIP);
	if (imsgev_compose(iev, IMSG_CFG_DONE, 0, -1, &seq, sizeof(seq)) == -1)
		fatal("%s: imsg_compose", __func__);
}

/* The receiving side, in a child.  A bad message is a bug: fatal. */
static struct xgw_config	*config_pending;

static __attribute__((__noreturn__)) void
config_bad(struct imsg *imsg, const char *what)
{
	fatalx("config: bad %s message (type %u, %zu bytes)", what,
	    imsg_get_type(imsg), imsg_get_len(imsg));
}

static void
config_get_file(struct imsg *imsg, struct xgw_config *conf)
{
	struct imsg_cursor	 c;
	struct xgw_domain	*d;
	struct xgw_file		*f = NULL;
	uint32_t		 kind, index, off, n, i = 0;
	uint8_t			*p;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &kind) == -1 || imsg_read_u32(&c, &index) == -1 ||
	    imsg_read_u32(&c, &off) == -1 || imsg_read_u32(&c, &n) == -1 ||
	    n != c.left || n == 0)
		config_bad(imsg, "file");
	switch (kind) {
	case CFILE_CA:
		f = &conf->ca;
		break;
	case CFILE_SECRET:
		f = &conf->secret;
		break;
	case CFILE_SIP_CA:
		f = &conf->sip.ca;
		break;
	case CFILE_SIP_CERT:
		f = &conf->sip.cert;
		break;
	case CFILE_SIP_KEY:
		f = &conf->sip.key;
		break;
	case CFILE_CERT:
	case CFILE_KEY:
		TAILQ_FOREACH(d, &conf->domains, entry)
			if (i++ == index)
				break;
		if (d == NULL)
			config_bad(imsg, "file domain");
		f = kind == CFILE_CERT ? &d->cert : &d->key;
		break;
	default:
		config_bad(imsg, "file kind");
	}
	if (off != f->len || n > XGW_FILE_MAX - off)
		config_bad(imsg, "file offset");
	if ((p = realloc(f->data, off + n)) == NULL)
		fatal("%s: realloc", __func__);
	if (imsg_read_bytes(&c, p + off, n) == -1)
		config_bad(imsg, "file");
	f->data = p;
	f->len = off + n;
}

static void
config_get_listen(struct imsg *imsg, struct xgw_listens *head)
{
	struct imsg_cursor	 c;
	struct xgw_listen	*l;
	uint32_t		 transport, sslen;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("%s: calloc", __func__);
	l->fd = imsg_get_fd(imsg);
	TAILQ_INSERT_TAIL(head, l, entry);
	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &transport) == -1 ||
	    imsg_read_u32(&c, &sslen) == -1 || sslen != sizeof(l->ss) ||
	    imsg_read_bytes(&c, &l->ss, sslen) == -1 ||
	    imsg_cursor_end(&c) == -1 || transport > XPORT_TLS ||
	    (l->ss.ss_family != AF_INET && l->ss.ss_family != AF_INET6))
		config_bad(imsg, "listen");
	l->transport = transport;
}

static void
config_get_global(struct imsg *imsg, struct xgw_config *conf)
{
	struct imsg_cursor	 c;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &conf->prefork) == -1 ||
	    imsg_read_u32(&c, &conf->limits.connections) == -1 ||
	    imsg_read_u32(&c, &conf->limits.per_partner) == -1 ||
	    imsg_read_u32(&c, &conf->limits.stanza_size) == -1 ||
	    imsg_read_u32(&c, &conf->limits.read_rate) == -1 ||
	    imsg_read_u32(&c, &conf->timeouts.establish) == -1 ||
	    imsg_read_u32(&c, &conf->timeouts.idle) == -1 ||
	    imsg_read_u32(&c, &conf->timeouts.keepalive) == -1 ||
	    imsg_read_u32(&c, &conf->timeouts.subscription_refresh) == -1 ||
	    imsg_read_string(&c, conf->statedir, sizeof(conf->statedir))
	    == -1 || imsg_cursor_end(&c) == -1)
		config_bad(imsg, "global");
}

static void
config_get_resolver(struct imsg *imsg, struct xgw_config *conf)
{
	struct imsg_cursor	 c;
	struct xgw_option	*o;
	struct xgw_name		*n;
	uint32_t		 kind;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		fatal("%s: calloc", __func__);
	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &kind) == -1 || kind > 2 ||
	    imsg_read_string(&c, o->name, sizeof(o->name)) == -1 ||
	    imsg_read_string(&c, o->value, sizeof(o->value)) == -1 ||
	    imsg_cursor_end(&c) == -1)
		config_bad(imsg, "resolver");
	if (kind == 1) {
		TAILQ_INSERT_TAIL(&conf->resolver_options, o, entry);
		return;
	}
	if (kind == 2) {
		TAILQ_INSERT_TAIL(&conf->hosts, o, entry);
		return;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		fatal("%s: calloc", __func__);
	(void)strlcpy(n->name, o->name, sizeof(n->name));
	TAILQ_INSERT_TAIL(&conf->resolvers, n, entry);
	free(o);
}

static void
config_get_sip(struct imsg *imsg, struct xgw_config *conf)
{
	struct imsg_cursor	 c;
	struct xgw_trusted	*t;
	struct sockaddr_storage	*ss;
	uint32_t		 v, port, transport, sslen, naddrs, i;

	imsg_cursor(imsg, &c);
	if (imsg_get_type(imsg) == IMSG_CFG_SIP_TRUSTED) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			fatal("%s: calloc", __func__);
		TAILQ_INSERT_TAIL(&conf->sip.trusted, t, entry);
		if (imsg_read_u32(&c, &v) == -1 || v > 128 ||
		    imsg_read_u32(&c, &sslen) == -1 ||
		    sslen != sizeof(t->ss) ||
		    imsg_read_bytes(&c, &t->ss, sslen) == -1 ||
		    imsg_cursor_end(&c) == -1)
			config_bad(imsg, "sip trusted");
		t->prefixlen = v;
		return;
	}
	if (imsg_read_u32(&c, &v) == -1 || v > 1 ||
	    imsg_read_string(&c, conf->sip.proxy, sizeof(conf->sip.proxy))
	    == -1 || imsg_read_u32(&c, &port) == -1 || port > 65535 ||
	    imsg_read_u32(&c, &transport) == -1 || transport > XPORT_TLS ||
	    imsg_read_u32(&c, &naddrs) == -1 || naddrs > XGW_SIP_ADDRS_MAX)
		config_bad(imsg, "sip");
	for (i = 0; i < naddrs; i++) {
		ss = &conf->sip.proxy_addrs[i];
		if (imsg_read_bytes(&c, ss, sizeof(*ss)) == -1 ||
		    (ss->ss_family != AF_INET && ss->ss_family != AF_INET6))
			config_bad(imsg, "sip proxy address");
	}
	if (imsg_cursor_end(&c) == -1)
		config_bad(imsg, "sip");
	conf->sip.proxy_naddrs = naddrs;
	conf->sip.configured = v;
	conf->sip.proxy_port = port;
	conf->sip.proxy_transport = transport;
}

/*
 * Returns 0 if imsg is no configuration message, 1 if it was; *newconf
 * is set when the configuration is complete.
 */
int
config_get(struct imsg *imsg, struct xgw_config **newconf, uint32_t *seq)
{
	struct xgw_config	*conf;
	struct xgw_domain	*d;
	struct xgw_partner	*p;
	struct imsg_cursor	 c;
	uint32_t		 type = imsg_get_type(imsg), n;

	*newconf = NULL;
	if (type < IMSG_CFG_GLOBAL || type > IMSG_CFG_DONE ||
	    type == IMSG_CFG_CONTROL)
		return (0);
	if (config_pending == NULL && (config_pending = config_new()) == NULL)
		fatal("%s: config_new", __func__);
	conf = config_pending;

	switch (type) {
	case IMSG_CFG_GLOBAL:
		config_get_global(imsg, conf);
		break;
	case IMSG_CFG_FILE:
		config_get_file(imsg, conf);
		break;
	case IMSG_CFG_RESOLVER:
		config_get_resolver(imsg, conf);
		break;
	case IMSG_CFG_DOMAIN:
		if ((d = calloc(1, sizeof(*d))) == NULL)
			fatal("%s: calloc", __func__);
		TAILQ_INIT(&d->users);
		TAILQ_INSERT_TAIL(&conf->domains, d, entry);
		imsg_cursor(imsg, &c);
		if (imsg_read_string(&c, d->name, sizeof(d->name)) == -1 ||
		    !domain_name_valid(d->name) ||
		    imsg_read_u32(&c, &n) == -1 || n > XGW_USERS_MAX)
			config_bad(imsg, "domain");
		while (n-- > 0) {
			struct xgw_name	*u;

			if ((u = calloc(1, sizeof(*u))) == NULL)
				fatal("%s: calloc", __func__);
			TAILQ_INSERT_TAIL(&d->users, u, entry);
			if (imsg_read_string(&c, u->name, sizeof(u->name))
			    == -1)
				config_bad(imsg, "domain");
		}
		if (imsg_cursor_end(&c) == -1)
			config_bad(imsg, "domain");
		break;
	case IMSG_CFG_LISTEN:
		config_get_listen(imsg, &conf->listens);
		break;
	case IMSG_CFG_SIP_LISTEN:
		config_get_listen(imsg, &conf->sip.listens);
		break;
	case IMSG_CFG_PARTNER:
		if ((p = calloc(1, sizeof(*p))) == NULL)
			fatal("%s: calloc", __func__);
		imsg_cursor(imsg, &c);
		if (partner_decode(&c, p) == -1 || imsg_cursor_end(&c) == -1)
			config_bad(imsg, "partner");
		TAILQ_INSERT_TAIL(&conf->partners, p, entry);
		break;
	case IMSG_CFG_SIP:
	case IMSG_CFG_SIP_TRUSTED:
		config_get_sip(imsg, conf);
		break;
	case IMSG_CFG_DONE:
		if (imsg_get_data(imsg, seq, sizeof(*seq)) == -1)
			config_bad(imsg, "done");
		*newconf = conf;
		config_pending = NULL;
		break;
	}
	return (1);
}
