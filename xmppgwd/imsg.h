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
 * Message framing between the xmppgwd processes, after the shape of the
 * OpenBSD imsg_init(3) API (the 7.7 "imsgbuf_*" generation), written
 * from its documentation: Debian ships no imsg library.
 *
 * Wire format: a 16-byte header in host byte order (the peers are always
 * on the same machine) followed by len - 16 bytes of payload.  The high
 * bit of len marks a message that travelled with a file descriptor
 * (SCM_RIGHTS).  At most one descriptor travels with a message.
 */

#ifndef IMSG_H
#define IMSG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>
#include <stddef.h>
#include <stdint.h>

#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)
#define IMSG_FD_MARK		0x80000000U
#define IMSG_MAXSIZE_DEFAULT	16384		/* header included */
#define IMSG_MAXSIZE_LIMIT	(16U * 1024 * 1024)

struct imsg_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* header + payload, | IMSG_FD_MARK */
	uint32_t	 peerid;
	uint32_t	 pid;
};

/* A growable byte buffer; one queued outgoing message is one ibuf. */
struct ibuf {
	TAILQ_ENTRY(ibuf)	 entry;
	unsigned char		*buf;
	size_t			 size;		/* allocated */
	size_t			 max;		/* may grow up to this */
	size_t			 wpos;		/* bytes written into buf */
	size_t			 rpos;		/* read / sent cursor */
	int			 fd;		/* to pass, or -1 */
};

struct msgbuf {
	TAILQ_HEAD(, ibuf)	 bufs;
	uint32_t		 queued;	/* messages in bufs */
};

struct imsgbuf {
	struct msgbuf		 w;
	int			 fd;
	pid_t			 pid;
	uint32_t		 maxsize;	/* largest message, header incl. */
	int			 allow_fdpass;
	/* read side */
	unsigned char		*rbuf;
	size_t			 rsize;		/* allocated */
	size_t			 rpos;		/* where the held bytes start */
	size_t			 rlen;		/* bytes held */
	TAILQ_HEAD(, imsg_fd)	 fds;		/* received, not yet claimed */
};

struct imsg_fd {
	TAILQ_ENTRY(imsg_fd)	 entry;
	int			 fd;
};

struct imsg {
	struct imsg_hdr		 hdr;
	void			*data;		/* payload or NULL */
	struct ibuf		*buf;		/* owns data */
	int			 fd;		/* -1 if none */
};

/* struct imsgbuf */
int	 imsgbuf_init(struct imsgbuf *, int);
void	 imsgbuf_allow_fdpass(struct imsgbuf *);
int	 imsgbuf_set_maxsize(struct imsgbuf *, uint32_t);
int	 imsgbuf_read(struct imsgbuf *);	/* 1 ok, 0 EOF, -1 error */
int	 imsgbuf_write(struct imsgbuf *);	/* 0 ok (maybe partial), -1 */
int	 imsgbuf_flush(struct imsgbuf *);	/* blocking sockets only */
void	 imsgbuf_clear(struct imsgbuf *);
uint32_t imsgbuf_queuelen(struct imsgbuf *);
int	 imsgbuf_get(struct imsgbuf *, struct imsg *); /* 1, 0 none, -1 */

/* composing */
int	 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, pid_t, int,
	    const void *, size_t);
int	 imsg_composev(struct imsgbuf *, uint32_t, uint32_t, pid_t, int,
	    const struct iovec *, int);
struct ibuf *imsg_create(struct imsgbuf *, uint32_t, uint32_t, pid_t,
	    size_t);
int	 imsg_add(struct ibuf *, const void *, size_t);
void	 imsg_close(struct imsgbuf *, struct ibuf *);
int	 imsg_forward(struct imsgbuf *, struct imsg *);

/* reading a received message */
uint32_t imsg_get_type(struct imsg *);
uint32_t imsg_get_id(struct imsg *);
pid_t	 imsg_get_pid(struct imsg *);
size_t	 imsg_get_len(struct imsg *);		/* payload length */
int	 imsg_get_fd(struct imsg *);		/* caller owns it now */
int	 imsg_get_data(struct imsg *, void *, size_t);	/* exact length */
void	 imsg_free(struct imsg *);

/*
 * A cursor over a received payload for variable-length messages:
 * imsg_cursor() starts it, imsg_read_*() take fields and fail (-1,
 * errno EBADMSG) rather than read past the end; imsg_cursor_end()
 * fails unless every byte was consumed.
 */
struct imsg_cursor {
	const unsigned char	*p;
	size_t			 left;
};

void	 imsg_cursor(struct imsg *, struct imsg_cursor *);
int	 imsg_read_u32(struct imsg_cursor *, uint32_t *);
int	 imsg_read_bytes(struct imsg_cursor *, void *, size_t);
/* a uint32 length then that many bytes, no NUL inside; result NUL-ended */
int	 imsg_read_string(struct imsg_cursor *, char *, size_t);
int	 imsg_cursor_end(struct imsg_cursor *);

/* matching writers for imsg_create()d messages */
int	 imsg_add_u32(struct ibuf *, uint32_t);
int	 imsg_add_string(struct ibuf *, const char *);

#endif /* IMSG_H */
