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
 * Framed messages over a stream socket between the xmppgwd processes,
 * with at most one descriptor per message.  See imsg.h for the wire
 * format.  Every error that loses or garbles part of the stream is
 * reported as -1: the byte stream cannot be resynchronised, so the
 * caller closes the channel.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#ifndef IOV_MAX
#define IOV_MAX		1024
#endif

/* First read buffer, if maxsize allows; it grows towards maxsize. */
#define IMSG_RBUF_INIT	(64 * 1024)

/*
 * Bytes asked of one recvmsg(), unless a large message still needs more.
 * imsgbuf_get() moves what follows each message to the front of the
 * buffer, so this bounds that copy per message however far the buffer
 * grew; small enough that a burst of tiny messages does not turn the
 * copies quadratic, large enough to keep the system calls few.
 */
#define IMSG_READ_CHUNK	(16 * 1024)

/*
 * Descriptors one recvmsg() has room for.  A well-behaved peer sends one
 * per sendmsg() and the kernel hands over one sendmsg()'s worth at a
 * time; the spare room only lets a sloppy peer's batch through rather
 * than losing descriptors to MSG_CTRUNC.
 */
#define IMSG_RECV_FDS	4

static void	 ibuf_free(struct ibuf *);
static int	 ibuf_grow(struct ibuf *, size_t);
static void	 msgbuf_drop(struct imsgbuf *, size_t);
static int	 imsgbuf_send(struct imsgbuf *, int *);
static int	 imsgbuf_rreserve(struct imsgbuf *, size_t *);
static int	 imsgbuf_recvfds(struct imsgbuf *, struct msghdr *);

int
imsgbuf_init(struct imsgbuf *ibuf, int fd)
{
	if (fd < 0) {
		errno = EINVAL;
		return (-1);
	}
	/* rbuf is allocated on the first read, once maxsize is final */
	memset(ibuf, 0, sizeof(*ibuf));
	TAILQ_INIT(&ibuf->w.bufs);
	TAILQ_INIT(&ibuf->fds);
	ibuf->fd = fd;
	ibuf->pid = getpid();
	ibuf->maxsize = IMSG_MAXSIZE_DEFAULT;
	return (0);
}

void
imsgbuf_allow_fdpass(struct imsgbuf *ibuf)
{
	ibuf->allow_fdpass = 1;
}

int
imsgbuf_set_maxsize(struct imsgbuf *ibuf, uint32_t maxsize)
{
	if (maxsize < IMSG_HEADER_SIZE || maxsize > IMSG_MAXSIZE_LIMIT) {
		errno = EINVAL;
		return (-1);
	}
	ibuf->maxsize = maxsize;
	return (0);
}

uint32_t
imsgbuf_queuelen(struct imsgbuf *ibuf)
{
	return (ibuf->w.queued);
}

void
imsgbuf_clear(struct imsgbuf *ibuf)
{
	struct ibuf	*buf;
	struct imsg_fd	*ifd;

	while ((buf = TAILQ_FIRST(&ibuf->w.bufs)) != NULL) {
		TAILQ_REMOVE(&ibuf->w.bufs, buf, entry);
		ibuf_free(buf);
	}
	ibuf->w.queued = 0;
	while ((ifd = TAILQ_FIRST(&ibuf->fds)) != NULL) {
		TAILQ_REMOVE(&ibuf->fds, ifd, entry);
		close(ifd->fd);
		free(ifd);
	}
	free(ibuf->rbuf);
	ibuf->rbuf = NULL;
	ibuf->rsize = 0;
	ibuf->rpos = 0;
	ibuf->rlen = 0;
}

/*
 * Output.
 */

static void
ibuf_free(struct ibuf *buf)
{
	int	 saved_errno;

	if (buf == NULL)
		return;
	saved_errno = errno;
	if (buf->fd != -1)
		close(buf->fd);
	free(buf->buf);
	free(buf);
	errno = saved_errno;
}

/* Make room for len more bytes, within buf->max. */
static int
ibuf_grow(struct ibuf *buf, size_t len)
{
	unsigned char	*p;
	size_t		 need, nsize;

	if (len > buf->max - buf->wpos) {
		errno = ERANGE;
		return (-1);
	}
	need = buf->wpos + len;
	if (need <= buf->size)
		return (0);
	/* double, so that many small imsg_add() calls stay linear */
	nsize = buf->size > buf->max / 2 ? buf->max : buf->size * 2;
	if (nsize < need)
		nsize = need;
	if ((p = realloc(buf->buf, nsize)) == NULL)
		return (-1);
	buf->buf = p;
	buf->size = nsize;
	return (0);
}

struct ibuf *
imsg_create(struct imsgbuf *ibuf, uint32_t type, uint32_t peerid, pid_t pid,
    size_t datalen)
{
	struct ibuf	*buf;
	struct imsg_hdr	 hdr;

	if (datalen > ibuf->maxsize - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return (NULL);
	}
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	buf->size = IMSG_HEADER_SIZE + datalen;
	if ((buf->buf = malloc(buf->size)) == NULL) {
		free(buf);
		return (NULL);
	}
	buf->max = ibuf->maxsize;
	buf->fd = -1;

	/* len is filled in by imsg_close() */
	hdr.type = type;
	hdr.len = 0;
	hdr.peerid = peerid;
	hdr.pid = (uint32_t)pid;
	memcpy(buf->buf, &hdr, sizeof(hdr));
	buf->wpos = sizeof(hdr);
	return (buf);
}

/*
 * On failure the message is freed: there is no other way to dispose
 * of it, and it lets callers chain imsg_add() calls on one check each.
 */
int
imsg_add(struct ibuf *buf, const void *data, size_t datalen)
{
	if (buf == NULL)
		return (-1);
	if (datalen == 0)
		return (0);
	if (ibuf_grow(buf, datalen) == -1) {
		ibuf_free(buf);
		return (-1);
	}
	memcpy(buf->buf + buf->wpos, data, datalen);
	buf->wpos += datalen;
	return (0);
}

int
imsg_add_u32(struct ibuf *buf, uint32_t v)
{
	return (imsg_add(buf, &v, sizeof(v)));
}

int
imsg_add_string(struct ibuf *buf, const char *s)
{
	size_t	 len;

	if (buf == NULL)
		return (-1);
	len = strlen(s);
	if (len > UINT32_MAX) {
		ibuf_free(buf);
		errno = ERANGE;
		return (-1);
	}
	if (imsg_add_u32(buf, (uint32_t)len) == -1)
		return (-1);
	return (imsg_add(buf, s, len));
}

void
imsg_close(struct imsgbuf *ibuf, struct ibuf *buf)
{
	uint32_t	 len;

	if (buf == NULL)
		return;
	/* wpos <= max <= IMSG_MAXSIZE_LIMIT, so the mark bit is free */
	len = (uint32_t)buf->wpos;
	if (buf->fd != -1)
		len |= IMSG_FD_MARK;
	memcpy(buf->buf + offsetof(struct imsg_hdr, len), &len, sizeof(len));
	buf->rpos = 0;
	TAILQ_INSERT_TAIL(&ibuf->w.bufs, buf, entry);
	ibuf->w.queued++;
}

int
imsg_composev(struct imsgbuf *ibuf, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const struct iovec *iov, int iovcnt)
{
	struct ibuf	*buf;
	size_t		 datalen = 0, room;
	int		 i, saved_errno;

	/* from here on the descriptor is ours, whatever happens */
	if (fd < 0)
		fd = -1;
	if (fd != -1 && !ibuf->allow_fdpass) {
		close(fd);
		errno = EPERM;
		return (-1);
	}
	if (iovcnt < 0) {
		errno = EINVAL;
		goto fail;
	}
	room = ibuf->maxsize - IMSG_HEADER_SIZE;
	for (i = 0; i < iovcnt; i++) {
		/* compared one by one so that the sum cannot wrap */
		if (iov[i].iov_len > room - datalen) {
			errno = ERANGE;
			goto fail;
		}
		datalen += iov[i].iov_len;
	}
	if ((buf = imsg_create(ibuf, type, peerid, pid, datalen)) == NULL)
		goto fail;
	for (i = 0; i < iovcnt; i++) {
		/* imsg_create() allocated room for all of it */
		if (iov[i].iov_len == 0)
			continue;
		memcpy(buf->buf + buf->wpos, iov[i].iov_base, iov[i].iov_len);
		buf->wpos += iov[i].iov_len;
	}
	buf->fd = fd;
	imsg_close(ibuf, buf);
	return (1);

fail:
	if (fd != -1) {
		saved_errno = errno;
		close(fd);
		errno = saved_errno;
	}
	return (-1);
}

int
imsg_compose(struct imsgbuf *ibuf, uint32_t type, uint32_t peerid, pid_t pid,
    int fd, const void *data, size_t datalen)
{
	struct iovec	 iov;

	/* the cast only satisfies struct iovec; the data is not written */
	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = datalen;
	return (imsg_composev(ibuf, type, peerid, pid, fd, &iov,
	    datalen == 0 ? 0 : 1));
}

int
imsg_forward(struct imsgbuf *ibuf, struct imsg *imsg)
{
	return (imsg_compose(ibuf, imsg->hdr.type, imsg->hdr.peerid,
	    (pid_t)imsg->hdr.pid, -1, imsg->data, imsg_get_len(imsg)));
}

/* Forget n bytes that the kernel accepted, from the head of the queue. */
static void
msgbuf_drop(struct imsgbuf *ibuf, size_t n)
{
	struct ibuf	*buf;
	size_t		 left;

	while (n > 0 && (buf = TAILQ_FIRST(&ibuf->w.bufs)) != NULL) {
		left = buf->wpos - buf->rpos;
		if (n < left) {
			buf->rpos += n;
			return;
		}
		n -= left;
		TAILQ_REMOVE(&ibuf->w.bufs, buf, entry);
		ibuf->w.queued--;
		ibuf_free(buf);
	}
}

/*
 * One sendmsg() of as many queued messages as fit in an iovec array.
 * A descriptor goes in the control data of the sendmsg() that carries
 * its message's first byte; a message with a descriptor therefore
 * starts a batch and never follows another in one.  *again is set if
 * the socket took nothing for now.
 */
static int
imsgbuf_send(struct imsgbuf *ibuf, int *again)
{
	struct iovec	 iov[IOV_MAX];
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct ibuf	*buf, *first;
	ssize_t		 n;
	int		 i = 0;

	*again = 0;
	if ((first = TAILQ_FIRST(&ibuf->w.bufs)) == NULL)
		return (0);
	TAILQ_FOREACH(buf, &ibuf->w.bufs, entry) {
		if (i == IOV_MAX || (i > 0 && buf->fd != -1))
			break;
		iov[i].iov_base = buf->buf + buf->rpos;
		iov[i].iov_len = buf->wpos - buf->rpos;
		i++;
	}

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = i;
	if (first->fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &first->fd, sizeof(int));
	}

	if ((n = sendmsg(ibuf->fd, &msg, MSG_NOSIGNAL)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR || errno == ENOBUFS) {
			*again = 1;
			return (0);
		}
		return (-1);
	}
	/* the peer holds the descriptor now; the rest must go without it */
	if (first->fd != -1 && n > 0) {
		close(first->fd);
		first->fd = -1;
	}
	msgbuf_drop(ibuf, (size_t)n);
	return (0);
}

int
imsgbuf_write(struct imsgbuf *ibuf)
{
	int	 again;

	return (imsgbuf_send(ibuf, &again));
}

int
imsgbuf_flush(struct imsgbuf *ibuf)
{
	struct pollfd	 pfd;
	int		 again;

	/* poll() only matters if the socket turns out non-blocking */
	while (ibuf->w.queued > 0) {
		if (imsgbuf_send(ibuf, &again) == -1)
			return (-1);
		if (!again)
			continue;
		pfd.fd = ibuf->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
	}
	return (0);
}

/*
 * Input.
 */

/*
 * Make sure the read buffer has room: at least a byte, and all of the
 * message whose header is held if that is valid; *needp is what it
 * should hold.  It never grows past maxsize: a buffer that is full at
 * maxsize holds a complete message or a bad header, which imsgbuf_get()
 * must take first.
 */
static int
imsgbuf_rreserve(struct imsgbuf *ibuf, size_t *needp)
{
	struct imsg_hdr	 hdr;
	unsigned char	*p;
	size_t		 need, nsize, len;

	/* what imsgbuf_get() left moves to the front once, not per message */
	if (ibuf->rpos > 0) {
		memmove(ibuf->rbuf, ibuf->rbuf + ibuf->rpos, ibuf->rlen);
		ibuf->rpos = 0;
	}
	need = ibuf->rlen + 1;
	if (ibuf->rlen >= IMSG_HEADER_SIZE) {
		memcpy(&hdr, ibuf->rbuf, sizeof(hdr));
		len = hdr.len & ~IMSG_FD_MARK;
		if (len > need && len <= ibuf->maxsize)
			need = len;
	}
	*needp = need;
	if (need <= ibuf->rsize)
		return (0);
	if (need > ibuf->maxsize) {
		errno = ENOBUFS;
		return (-1);
	}
	if (ibuf->rsize == 0)
		nsize = IMSG_RBUF_INIT;
	else
		nsize = ibuf->rsize * 2;	/* rsize <= 16 MB: no wrap */
	if (nsize > ibuf->maxsize)
		nsize = ibuf->maxsize;
	if (nsize < need)
		nsize = need;
	if ((p = realloc(ibuf->rbuf, nsize)) == NULL)
		return (-1);
	ibuf->rbuf = p;
	ibuf->rsize = nsize;
	return (0);
}

/*
 * Queue the descriptors that came with a recvmsg(), or close them all
 * if the channel may not carry any or some were lost to truncation.
 */
static int
imsgbuf_recvfds(struct imsgbuf *ibuf, struct msghdr *msg)
{
	struct cmsghdr	*cmsg;
	struct imsg_fd	*ifd;
	size_t		 i, nfds;
	int		 fd, error = 0;

	if (msg->msg_flags & MSG_CTRUNC)
		error = EBADMSG;
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(fd));
			if (error == 0 && !ibuf->allow_fdpass)
				error = EBADMSG;
			if (error == 0 &&
			    (ifd = malloc(sizeof(*ifd))) == NULL)
				error = errno;
			if (error != 0) {
				close(fd);
				continue;
			}
			ifd->fd = fd;
			TAILQ_INSERT_TAIL(&ibuf->fds, ifd, entry);
		}
	}
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}

int
imsgbuf_read(struct imsgbuf *ibuf)
{
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int) * IMSG_RECV_FDS)];
	} cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 n;
	size_t		 need, want;

	if (imsgbuf_rreserve(ibuf, &need) == -1)
		return (-1);
	want = need - ibuf->rlen;
	if (want < IMSG_READ_CHUNK)
		want = IMSG_READ_CHUNK;
	iov.iov_base = ibuf->rbuf + ibuf->rlen;
	iov.iov_len = ibuf->rsize - ibuf->rlen;
	if (iov.iov_len > want)
		iov.iov_len = want;

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

	if ((n = recvmsg(ibuf->fd, &msg, MSG_CMSG_CLOEXEC)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return (1);
		return (-1);
	}
	/* before anything else, so that no descriptor leaks */
	if (imsgbuf_recvfds(ibuf, &msg) == -1)
		return (-1);
	if (n == 0)
		return (0);
	ibuf->rlen += (size_t)n;
	return (1);
}

int
imsgbuf_get(struct imsgbuf *ibuf, struct imsg *imsg)
{
	struct imsg_hdr	 hdr;
	struct imsg_fd	*ifd = NULL;
	struct ibuf	*buf = NULL;
	size_t		 len, datalen;

	if (ibuf->rlen < IMSG_HEADER_SIZE)
		return (0);
	memcpy(&hdr, ibuf->rbuf + ibuf->rpos, sizeof(hdr));
	len = hdr.len & ~IMSG_FD_MARK;
	if (len < IMSG_HEADER_SIZE || len > ibuf->maxsize) {
		errno = ERANGE;
		return (-1);
	}
	if (ibuf->rlen < len)
		return (0);
	if (hdr.len & IMSG_FD_MARK) {
		/* it came with the header's bytes, or never will */
		if ((ifd = TAILQ_FIRST(&ibuf->fds)) == NULL) {
			errno = EBADMSG;
			return (-1);
		}
	}

	datalen = len - IMSG_HEADER_SIZE;
	if (datalen > 0) {
		if ((buf = calloc(1, sizeof(*buf))) == NULL)
			return (-1);
		if ((buf->buf = malloc(datalen)) == NULL) {
			free(buf);
			return (-1);
		}
		memcpy(buf->buf, ibuf->rbuf + ibuf->rpos + IMSG_HEADER_SIZE,
		    datalen);
		buf->size = buf->max = buf->wpos = datalen;
		buf->fd = -1;
	}

	memset(imsg, 0, sizeof(*imsg));
	imsg->hdr = hdr;
	imsg->hdr.len = (uint32_t)len;
	imsg->buf = buf;
	imsg->data = buf != NULL ? buf->buf : NULL;
	imsg->fd = -1;
	if (ifd != NULL) {
		TAILQ_REMOVE(&ibuf->fds, ifd, entry);
		imsg->fd = ifd->fd;
		free(ifd);
	}

	ibuf->rlen -= len;
	ibuf->rpos = ibuf->rlen > 0 ? ibuf->rpos + len : 0;
	return (1);
}

/*
 * A received message.
 */

uint32_t
imsg_get_type(struct imsg *imsg)
{
	return (imsg->hdr.type);
}

uint32_t
imsg_get_id(struct imsg *imsg)
{
	return (imsg->hdr.peerid);
}

pid_t
imsg_get_pid(struct imsg *imsg)
{
	return ((pid_t)imsg->hdr.pid);
}

size_t
imsg_get_len(struct imsg *imsg)
{
	if (imsg->hdr.len < IMSG_HEADER_SIZE)
		return (0);
	return (imsg->hdr.len - IMSG_HEADER_SIZE);
}

int
imsg_get_fd(struct imsg *imsg)
{
	int	 fd;

	fd = imsg->fd;
	imsg->fd = -1;
	return (fd);
}

int
imsg_get_data(struct imsg *imsg, void *data, size_t len)
{
	/* a size mismatch means the peers disagree on the structure */
	if (len != imsg_get_len(imsg)) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(data, imsg->data, len);
	return (0);
}

void
imsg_free(struct imsg *imsg)
{
	ibuf_free(imsg->buf);
	imsg->buf = NULL;
	imsg->data = NULL;
	if (imsg->fd != -1) {
		close(imsg->fd);
		imsg->fd = -1;
	}
}

/*
 * Cursor over a received payload.
 */

void
imsg_cursor(struct imsg *imsg, struct imsg_cursor *c)
{
	c->p = imsg->data;
	c->left = imsg->data != NULL ? imsg_get_len(imsg) : 0;
}

int
imsg_read_bytes(struct imsg_cursor *c, void *dst, size_t len)
{
	if (len > c->left) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(dst, c->p, len);
	c->p += len;
	c->left -= len;
	return (0);
}

int
imsg_read_u32(struct imsg_cursor *c, uint32_t *v)
{
	return (imsg_read_bytes(c, v, sizeof(*v)));
}

int
imsg_read_string(struct imsg_cursor *c, char *dst, size_t dstsize)
{
	uint32_t	 len;

	/* look at the length first: a failed read consumes nothing */
	if (c->left < sizeof(len)) {
		errno = EBADMSG;
		return (-1);
	}
	memcpy(&len, c->p, sizeof(len));
	if (len > c->left - sizeof(len) || len >= dstsize ||
	    memchr(c->p + sizeof(len), '\0', len) != NULL) {
		errno = EBADMSG;
		return (-1);
	}
	memcpy(dst, c->p + sizeof(len), len);
	dst[len] = '\0';
	c->p += sizeof(len) + len;
	c->left -= sizeof(len) + len;
	return (0);
}

int
imsg_cursor_end(struct imsg_cursor *c)
{
	if (c->left != 0) {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}
