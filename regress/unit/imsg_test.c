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
 * Unit tests of the imsg framing (xmppgwd/imsg.c) over AF_UNIX stream
 * socketpairs.  The "raw" side of some tests writes bytes or control
 * messages with plain write()/sendmsg() to play a broken or hostile peer.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "imsg.h"

#define T_TYPE		42
#define T_PEERID	7
#define T_PID		1234

static void
mkpair(int sv[2], int nonblock)
{
	int	 type = SOCK_STREAM;

	if (nonblock)
		type |= SOCK_NONBLOCK;
	ATF_REQUIRE(socketpair(AF_UNIX, type, 0, sv) == 0);
}

/* A pipe whose read end does not block: a leaked write end shows as EAGAIN. */
static void
mkpipe(int p[2])
{
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
}

/* Every write end of the pipe is closed: no copy of it leaked. */
static void
require_pipe_eof(int rfd)
{
	char	 c;

	ATF_REQUIRE_EQ_MSG(read(rfd, &c, 1), 0,
	    "a write end of the pipe is still open");
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;

	while (len > 0) {
		n = write(fd, p, len);
		ATF_REQUIRE(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void
write_hdr(int fd, uint32_t type, uint32_t len)
{
	struct imsg_hdr	 hdr;

	hdr.type = type;
	hdr.len = len;
	hdr.peerid = T_PEERID;
	hdr.pid = T_PID;
	write_all(fd, &hdr, sizeof(hdr));
}

/* The next message from a blocking socket. */
static void
get_one(struct imsgbuf *ibuf, struct imsg *imsg)
{
	int	 n;

	for (;;) {
		n = imsgbuf_get(ibuf, imsg);
		ATF_REQUIRE(n != -1);
		if (n == 1)
			return;
		ATF_REQUIRE_EQ(imsgbuf_read(ibuf), 1);
	}
}

/* The next message, writing w and reading r in turn (non-blocking). */
static void
pump_one(struct imsgbuf *w, struct imsgbuf *r, struct imsg *imsg)
{
	int	 i, n;

	for (i = 0; i < 1000000; i++) {
		n = imsgbuf_get(r, imsg);
		ATF_REQUIRE(n != -1);
		if (n == 1)
			return;
		ATF_REQUIRE_EQ(imsgbuf_write(w), 0);
		ATF_REQUIRE_EQ(imsgbuf_read(r), 1);
	}
	atf_tc_fail("no message after %d rounds", i);
}

static void
fill(unsigned char *buf, size_t len, uint32_t seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

ATF_TC_WITHOUT_HEAD(compose_get_roundtrip);
ATF_TC_BODY(compose_get_roundtrip, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	const char	 payload[] = "hello, world";
	int		 sv[2];

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);

	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, T_PEERID, T_PID, -1,
	    payload, sizeof(payload)), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE + 1, 0, 0, -1, NULL, 0), 1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 2);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 0);

	get_one(&b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), T_TYPE);
	ATF_REQUIRE_EQ(imsg_get_id(&imsg), T_PEERID);
	ATF_REQUIRE_EQ(imsg_get_pid(&imsg), T_PID);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), sizeof(payload));
	ATF_REQUIRE_EQ(imsg.hdr.len, IMSG_HEADER_SIZE + sizeof(payload));
	ATF_REQUIRE_EQ(imsg.fd, -1);
	ATF_REQUIRE(imsg.data != NULL);
	ATF_REQUIRE(memcmp(imsg.data, payload, sizeof(payload)) == 0);
	imsg_free(&imsg);

	get_one(&b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), T_TYPE + 1);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 0);
	ATF_REQUIRE(imsg.data == NULL);
	imsg_free(&imsg);

	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 0);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(many_messages_one_write_batch);
ATF_TC_BODY(many_messages_one_write_batch, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	uint32_t	 i, v;
	int		 sv[2];

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);

	for (i = 0; i < 1000; i++)
		ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, i, T_PID, -1,
		    &i, sizeof(i)), 1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 1000);

	/* 20 kB fit the socket: one call, one sendmsg(), all of them */
	ATF_REQUIRE_EQ(imsgbuf_write(&a), 0);
	ATF_REQUIRE_EQ_MSG(imsgbuf_queuelen(&a), 0,
	    "%u messages left after one write", imsgbuf_queuelen(&a));

	for (i = 0; i < 1000; i++) {
		get_one(&b, &imsg);
		ATF_REQUIRE_EQ(imsg_get_id(&imsg), i);
		ATF_REQUIRE_EQ(imsg_get_data(&imsg, &v, sizeof(v)), 0);
		ATF_REQUIRE_EQ(v, i);
		imsg_free(&imsg);
	}
	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 0);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(partial_read_reassembles);
ATF_TC_BODY(partial_read_reassembles, tc)
{
	struct imsgbuf	 b;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;
	unsigned char	 raw[2 * (sizeof(hdr) + 10)];
	size_t		 i, one;
	int		 sv[2], n, got = 0;

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);

	/* two messages back to back, the second split from the first */
	one = sizeof(hdr) + 10;
	hdr.type = T_TYPE;
	hdr.len = (uint32_t)one;
	hdr.peerid = T_PEERID;
	hdr.pid = T_PID;
	memcpy(raw, &hdr, sizeof(hdr));
	memcpy(raw + sizeof(hdr), "0123456789", 10);
	hdr.type = T_TYPE + 1;
	memcpy(raw + one, &hdr, sizeof(hdr));
	memcpy(raw + one + sizeof(hdr), "abcdefghij", 10);

	for (i = 0; i < sizeof(raw); i++) {
		write_all(sv[0], raw + i, 1);
		ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
		n = imsgbuf_get(&b, &imsg);
		if (i + 1 == one || i + 1 == sizeof(raw)) {
			ATF_REQUIRE_EQ_MSG(n, 1, "no message at byte %zu", i);
			ATF_REQUIRE_EQ(imsg_get_type(&imsg),
			    got == 0 ? T_TYPE : T_TYPE + 1);
			ATF_REQUIRE_EQ(imsg_get_len(&imsg), 10);
			ATF_REQUIRE(memcmp(imsg.data, got == 0 ?
			    "0123456789" : "abcdefghij", 10) == 0);
			imsg_free(&imsg);
			got++;
		} else
			ATF_REQUIRE_EQ_MSG(n, 0, "early message at byte %zu",
			    i);
	}
	ATF_REQUIRE_EQ(got, 2);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(partial_write_resumes);
ATF_TC_BODY(partial_write_resumes, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	struct ibuf	*head;
	unsigned char	 msg[1000], want[1000];
	uint32_t	 i, got = 0;
	int		 sv[2], sndbuf = 4096, rounds, midmsg = 0;

	mkpair(sv, 1);
	ATF_REQUIRE(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);

	for (i = 0; i < 300; i++) {
		fill(msg, sizeof(msg), i);
		ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, i, T_PID, -1,
		    msg, sizeof(msg)), 1);
	}
	ATF_REQUIRE_EQ(imsgbuf_write(&a), 0);
	ATF_REQUIRE_MSG(imsgbuf_queuelen(&a) > 0,
	    "300 kB went into a 4 kB socket buffer at once");

	for (rounds = 0; got < 300 && rounds < 100000; rounds++) {
		ATF_REQUIRE_EQ(imsgbuf_write(&a), 0);
		head = TAILQ_FIRST(&a.w.bufs);
		if (head != NULL && head->rpos > 0)
			midmsg = 1;
		ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
		while ((imsgbuf_get(&b, &imsg)) == 1) {
			fill(want, sizeof(want), got);
			ATF_REQUIRE_EQ(imsg_get_id(&imsg), got);
			ATF_REQUIRE_EQ(imsg_get_len(&imsg), sizeof(want));
			ATF_REQUIRE(memcmp(imsg.data, want, sizeof(want)) == 0);
			imsg_free(&imsg);
			got++;
		}
	}
	ATF_REQUIRE_EQ(got, 300);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 0);
	ATF_REQUIRE_MSG(midmsg, "no write stopped inside a message");
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(large_message_grows_read_buffer);
ATF_TC_BODY(large_message_grows_read_buffer, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	unsigned char	*big, *want;
	size_t		 len = 700 * 1024;
	uint32_t	 v;
	int		 sv[2];

	ATF_REQUIRE((big = malloc(len)) != NULL);
	ATF_REQUIRE((want = malloc(len)) != NULL);
	fill(want, len, 99);
	memcpy(big, want, len);

	mkpair(sv, 1);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&a, 1024 * 1024), 0);

	/* the receiver's default limit refuses it as a bad stream */
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, -1, big, len), 1);
	ATF_REQUIRE_EQ(imsgbuf_write(&a), 0);
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	ATF_REQUIRE_ERRNO(ERANGE, imsgbuf_get(&b, &imsg) == -1);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);

	mkpair(sv, 1);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&a, 1024 * 1024), 0);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&b, 1024 * 1024), 0);

	/* small, large, small: the buffer grows and the tail survives */
	v = 1;
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 1, T_PID, -1, &v,
	    sizeof(v)), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 2, T_PID, -1, big, len), 1);
	v = 3;
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 3, T_PID, -1, &v,
	    sizeof(v)), 1);

	pump_one(&a, &b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_id(&imsg), 1);
	imsg_free(&imsg);
	pump_one(&a, &b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_id(&imsg), 2);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), len);
	ATF_REQUIRE(memcmp(imsg.data, want, len) == 0);
	imsg_free(&imsg);
	ATF_REQUIRE(b.rsize >= IMSG_HEADER_SIZE + len);
	ATF_REQUIRE(b.rsize <= 1024 * 1024);
	pump_one(&a, &b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_id(&imsg), 3);
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, &v, sizeof(v)), 0);
	ATF_REQUIRE_EQ(v, 3);
	imsg_free(&imsg);

	free(big);
	free(want);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(oversize_compose_refused);
ATF_TC_BODY(oversize_compose_refused, tc)
{
	struct imsgbuf	 a;
	struct ibuf	*buf;
	struct iovec	 iov[2];
	static unsigned char big[IMSG_MAXSIZE_DEFAULT];
	size_t		 room = IMSG_MAXSIZE_DEFAULT - IMSG_HEADER_SIZE;
	int		 sv[2], p[2];

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	imsgbuf_allow_fdpass(&a);

	ATF_REQUIRE_ERRNO(ERANGE,
	    imsg_compose(&a, T_TYPE, 0, T_PID, -1, big, room + 1) == -1);
	ATF_REQUIRE_ERRNO(ERANGE,
	    imsg_compose(&a, T_TYPE, 0, T_PID, -1, big, SIZE_MAX) == -1);
	iov[0].iov_base = big;
	iov[0].iov_len = room;
	iov[1].iov_base = big;
	iov[1].iov_len = 1;
	ATF_REQUIRE_ERRNO(ERANGE,
	    imsg_composev(&a, T_TYPE, 0, T_PID, -1, iov, 2) == -1);
	iov[1].iov_len = SIZE_MAX;	/* the sum must not wrap */
	ATF_REQUIRE_ERRNO(ERANGE,
	    imsg_composev(&a, T_TYPE, 0, T_PID, -1, iov, 2) == -1);
	ATF_REQUIRE_ERRNO(ERANGE,
	    imsg_create(&a, T_TYPE, 0, T_PID, room + 1) == NULL);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 0);

	/* imsg_add() may grow past the hint, but not past maxsize */
	ATF_REQUIRE((buf = imsg_create(&a, T_TYPE, 0, T_PID, 4)) != NULL);
	ATF_REQUIRE(imsg_add(buf, big, room) == 0);
	ATF_REQUIRE_ERRNO(ERANGE, imsg_add(buf, big, 1) == -1);
	/* buf was freed by the failed imsg_add() */
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 0);

	/* a refused descriptor is closed all the same */
	mkpipe(p);
	ATF_REQUIRE_ERRNO(ERANGE,
	    imsg_compose(&a, T_TYPE, 0, T_PID, p[1], big, room + 1) == -1);
	require_pipe_eof(p[0]);
	close(p[0]);

	/* exactly maxsize is fine */
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, -1, big, room), 1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 1);

	ATF_REQUIRE_ERRNO(EINVAL,
	    imsgbuf_set_maxsize(&a, IMSG_HEADER_SIZE - 1) == -1);
	ATF_REQUIRE_ERRNO(EINVAL,
	    imsgbuf_set_maxsize(&a, IMSG_MAXSIZE_LIMIT + 1) == -1);
	ATF_REQUIRE_EQ(a.maxsize, IMSG_MAXSIZE_DEFAULT);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&a, IMSG_HEADER_SIZE), 0);
	ATF_REQUIRE_ERRNO(ERANGE,
	    imsg_compose(&a, T_TYPE, 0, T_PID, -1, big, 1) == -1);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, -1, NULL, 0), 1);

	imsgbuf_clear(&a);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(oversize_header_len_rejected);
ATF_TC_BODY(oversize_header_len_rejected, tc)
{
	struct imsgbuf	 b;
	struct imsg	 imsg;
	int		 sv[2];

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);

	/* one past the limit, without waiting for the payload */
	write_hdr(sv[0], T_TYPE, IMSG_MAXSIZE_DEFAULT + 1);
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	ATF_REQUIRE_ERRNO(ERANGE, imsgbuf_get(&b, &imsg) == -1);

	/* at the limit it is merely incomplete */
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&b, IMSG_MAXSIZE_DEFAULT + 1), 0);
	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 0);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);

	/* the fd mark does not hide a huge length */
	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	write_hdr(sv[0], T_TYPE, IMSG_FD_MARK | 0x7fffffffU);
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	ATF_REQUIRE_ERRNO(ERANGE, imsgbuf_get(&b, &imsg) == -1);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(truncated_header_len_rejected);
ATF_TC_BODY(truncated_header_len_rejected, tc)
{
	struct imsgbuf	 b;
	struct imsg	 imsg;
	uint32_t	 lens[] = { 0, 1, IMSG_HEADER_SIZE - 1, IMSG_FD_MARK };
	size_t		 i;
	int		 sv[2];

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		mkpair(sv, 0);
		ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
		write_hdr(sv[0], T_TYPE, lens[i]);
		ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
		ATF_REQUIRE_ERRNO(ERANGE, imsgbuf_get(&b, &imsg) == -1);
		imsgbuf_clear(&b);
		close(sv[0]);
		close(sv[1]);
	}

	/* a bare header is a valid empty message */
	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	write_hdr(sv[0], T_TYPE, IMSG_HEADER_SIZE);
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 0);
	imsg_free(&imsg);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(exact_length_get_data);
ATF_TC_BODY(exact_length_get_data, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	struct {
		uint32_t	 x;
		uint32_t	 y;
	}		 s = { 0x01020304, 0x05060708 }, r;
	unsigned char	 big[sizeof(s) + 1];
	int		 sv[2];

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, -1, &s,
	    sizeof(s)), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, -1, NULL, 0), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);

	get_one(&b, &imsg);
	memset(&r, 0, sizeof(r));
	ATF_REQUIRE_ERRNO(EBADMSG,
	    imsg_get_data(&imsg, &r, sizeof(r) - 1) == -1);
	ATF_REQUIRE_ERRNO(EBADMSG,
	    imsg_get_data(&imsg, big, sizeof(big)) == -1);
	ATF_REQUIRE_EQ(r.x, 0);
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, &r, sizeof(r)), 0);
	ATF_REQUIRE_EQ(r.x, s.x);
	ATF_REQUIRE_EQ(r.y, s.y);
	imsg_free(&imsg);

	get_one(&b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, NULL, 0), 0);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_get_data(&imsg, &r, 1) == -1);
	imsg_free(&imsg);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(fd_passing);
ATF_TC_BODY(fd_passing, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	char		 buf[8];
	int		 sv[2], p[2], q[2], fd;

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	imsgbuf_allow_fdpass(&a);
	imsgbuf_allow_fdpass(&b);
	mkpipe(p);
	mkpipe(q);

	/* plain, fd, plain, fd: each fd must land on its own message */
	ATF_REQUIRE_EQ(imsg_compose(&a, 1, 0, T_PID, -1, "a", 1), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, 2, 0, T_PID, p[1], "b", 1), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, 3, 0, T_PID, -1, "c", 1), 1);
	ATF_REQUIRE_EQ(imsg_compose(&a, 4, 0, T_PID, q[1], "d", 1), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);

	get_one(&b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 1);
	ATF_REQUIRE_EQ(imsg.fd, -1);
	imsg_free(&imsg);

	get_one(&b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 2);
	ATF_REQUIRE_EQ(imsg.hdr.len, IMSG_HEADER_SIZE + 1);	/* no mark */
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 1);
	ATF_REQUIRE(imsg.fd >= 0);
	fd = imsg_get_fd(&imsg);
	ATF_REQUIRE(fd >= 0);
	ATF_REQUIRE_EQ(imsg.fd, -1);
	ATF_REQUIRE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	imsg_free(&imsg);
	/* still open after imsg_free(): the caller claimed it */
	ATF_REQUIRE_EQ(write(fd, "ping", 4), 4);
	ATF_REQUIRE_EQ(read(p[0], buf, sizeof(buf)), 4);
	ATF_REQUIRE(memcmp(buf, "ping", 4) == 0);
	close(fd);
	/* the sender's copy was closed once it was sent */
	require_pipe_eof(p[0]);

	get_one(&b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 3);
	ATF_REQUIRE_EQ(imsg.fd, -1);
	imsg_free(&imsg);

	/* an unclaimed descriptor is closed by imsg_free() */
	get_one(&b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 4);
	ATF_REQUIRE(imsg.fd >= 0);
	imsg_free(&imsg);
	require_pipe_eof(q[0]);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(p[0]);
	close(q[0]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(fd_refused_without_allow_fdpass);
ATF_TC_BODY(fd_refused_without_allow_fdpass, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	int		 sv[2], p[2];

	/* the receiver did not allow descriptors: the read fails */
	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	imsgbuf_allow_fdpass(&a);
	mkpipe(p);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, p[1], "x", 1), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	ATF_REQUIRE_ERRNO(EBADMSG, imsgbuf_read(&b) == -1);
	require_pipe_eof(p[0]);		/* and closed what came */
	close(p[0]);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);

	/* the sender did not allow descriptors: the compose fails */
	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	mkpipe(p);
	ATF_REQUIRE_ERRNO(EPERM,
	    imsg_compose(&a, T_TYPE, 0, T_PID, p[1], "x", 1) == -1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 0);
	require_pipe_eof(p[0]);
	close(p[0]);
	imsgbuf_clear(&a);
	close(sv[0]);
	close(sv[1]);

	/* a marked message whose descriptor never came */
	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	imsgbuf_allow_fdpass(&b);
	write_hdr(sv[0], T_TYPE, IMSG_FD_MARK | IMSG_HEADER_SIZE);
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	ATF_REQUIRE_ERRNO(EBADMSG, imsgbuf_get(&b, &imsg) == -1);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(ctrunc_detected);
ATF_TC_BODY(ctrunc_detected, tc)
{
	struct imsgbuf	 b;
	struct imsg_hdr	 hdr;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int) * 16)];
	}		 cmsgbuf;
	int		 fds[16], sv[2], p[2], i;

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	imsgbuf_allow_fdpass(&b);
	mkpipe(p);

	/* 16 descriptors in one control message: more than recvmsg takes */
	for (i = 0; i < 16; i++)
		fds[i] = p[1];
	hdr.type = T_TYPE;
	hdr.len = IMSG_FD_MARK | IMSG_HEADER_SIZE;
	hdr.peerid = T_PEERID;
	hdr.pid = T_PID;
	iov.iov_base = &hdr;
	iov.iov_len = sizeof(hdr);
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	ATF_REQUIRE_EQ(sendmsg(sv[0], &msg, 0), (ssize_t)sizeof(hdr));
	close(p[1]);

	ATF_REQUIRE_ERRNO(EBADMSG, imsgbuf_read(&b) == -1);
	/* those that did arrive were closed, not leaked */
	require_pipe_eof(p[0]);

	imsgbuf_clear(&b);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(eof_returns_zero);
ATF_TC_BODY(eof_returns_zero, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	int		 sv[2];

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, -1, "x", 1), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	imsgbuf_clear(&a);
	close(sv[0]);

	/* what was sent before the close is still delivered */
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 1);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 0);
	ATF_REQUIRE_EQ(imsgbuf_get(&b, &imsg), 0);

	/* a write to the closed peer fails, without SIGPIPE */
	ATF_REQUIRE_EQ(imsg_compose(&b, T_TYPE, 0, T_PID, -1, "y", 1), 1);
	ATF_REQUIRE_ERRNO(EPIPE, imsgbuf_write(&b) == -1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&b), 1);
	imsgbuf_clear(&b);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(cursor_reads_and_bounds);
ATF_TC_BODY(cursor_reads_and_bounds, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	struct imsg_cursor c, saved;
	struct ibuf	*buf;
	const char	*jid = "alice@example.org";	/* 17 bytes */
	unsigned char	 raw[16], bytes[3];
	char		 s[64], small[17], tiny[18];
	uint32_t	 v;
	int		 sv[2];

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);

	ATF_REQUIRE((buf = imsg_create(&a, T_TYPE, 0, T_PID, 0)) != NULL);
	ATF_REQUIRE(imsg_add_u32(buf, 0xdeadbeef) != -1);
	ATF_REQUIRE(imsg_add_string(buf, jid) != -1);
	ATF_REQUIRE(imsg_add(buf, "\001\002\003", 3) != -1);
	ATF_REQUIRE(imsg_add_string(buf, "") != -1);
	imsg_close(&a, buf);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	get_one(&b, &imsg);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 4 + 4 + 17 + 3 + 4);

	imsg_cursor(&imsg, &c);
	ATF_REQUIRE_EQ(imsg_read_u32(&c, &v), 0);
	ATF_REQUIRE_EQ(v, 0xdeadbeef);
	saved = c;
	/* 17 bytes need 18 with the NUL; a failure consumes nothing */
	ATF_REQUIRE_ERRNO(EBADMSG,
	    imsg_read_string(&c, small, sizeof(small)) == -1);
	ATF_REQUIRE_EQ(c.left, saved.left);
	ATF_REQUIRE_EQ(imsg_read_string(&c, tiny, sizeof(tiny)), 0);
	ATF_REQUIRE_STREQ(tiny, jid);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_cursor_end(&c) == -1);
	ATF_REQUIRE_EQ(imsg_read_bytes(&c, bytes, sizeof(bytes)), 0);
	ATF_REQUIRE(memcmp(bytes, "\001\002\003", 3) == 0);
	s[0] = 'x';
	ATF_REQUIRE_EQ(imsg_read_string(&c, s, sizeof(s)), 0);
	ATF_REQUIRE_STREQ(s, "");
	ATF_REQUIRE_EQ(imsg_cursor_end(&c), 0);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_read_u32(&c, &v) == -1);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_read_bytes(&c, bytes, 1) == -1);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_read_string(&c, s, sizeof(s)) == -1);
	imsg_free(&imsg);

	/* embedded NUL */
	v = 3;
	memcpy(raw, &v, 4);
	memcpy(raw + 4, "a\0b", 3);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, -1, raw, 7), 1);
	/* length past the end, and one that would wrap a size_t sum */
	v = 100;
	memcpy(raw, &v, 4);
	memcpy(raw + 4, "abc", 3);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 1, T_PID, -1, raw, 7), 1);
	v = UINT32_MAX;
	memcpy(raw, &v, 4);
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 2, T_PID, -1, raw, 7), 1);
	/* a u32, then a trailing byte */
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 3, T_PID, -1, raw, 5), 1);
	/* a short u32 */
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 4, T_PID, -1, raw, 3), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);

	get_one(&b, &imsg);
	imsg_cursor(&imsg, &c);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_read_string(&c, s, sizeof(s)) == -1);
	imsg_free(&imsg);

	get_one(&b, &imsg);
	imsg_cursor(&imsg, &c);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_read_string(&c, s, sizeof(s)) == -1);
	imsg_free(&imsg);

	get_one(&b, &imsg);
	imsg_cursor(&imsg, &c);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_read_string(&c, s, sizeof(s)) == -1);
	ATF_REQUIRE_EQ(c.left, 7);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_read_bytes(&c, s, 8) == -1);
	imsg_free(&imsg);

	get_one(&b, &imsg);
	imsg_cursor(&imsg, &c);
	ATF_REQUIRE_EQ(imsg_read_u32(&c, &v), 0);
	ATF_REQUIRE_EQ(v, UINT32_MAX);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_cursor_end(&c) == -1);
	imsg_free(&imsg);

	get_one(&b, &imsg);
	imsg_cursor(&imsg, &c);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_read_u32(&c, &v) == -1);
	ATF_REQUIRE_EQ(c.left, 3);
	imsg_free(&imsg);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(forward_copies_message);
ATF_TC_BODY(forward_copies_message, tc)
{
	struct imsgbuf	 a, b, c, d;
	struct imsg	 imsg, fwd;
	int		 sv[2], sv2[2], p[2];

	mkpair(sv, 0);
	mkpair(sv2, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&c, sv2[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&d, sv2[1]), 0);
	imsgbuf_allow_fdpass(&a);
	imsgbuf_allow_fdpass(&b);
	mkpipe(p);

	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, T_PEERID, T_PID, p[1],
	    "payload", 7), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	get_one(&b, &imsg);
	ATF_REQUIRE(imsg.fd >= 0);

	ATF_REQUIRE_EQ(imsg_forward(&c, &imsg), 1);
	ATF_REQUIRE(imsg.fd >= 0);	/* stays with the original */
	ATF_REQUIRE_EQ(imsgbuf_flush(&c), 0);
	get_one(&d, &fwd);
	ATF_REQUIRE_EQ(imsg_get_type(&fwd), T_TYPE);
	ATF_REQUIRE_EQ(imsg_get_id(&fwd), T_PEERID);
	ATF_REQUIRE_EQ(imsg_get_pid(&fwd), T_PID);
	ATF_REQUIRE_EQ(imsg_get_len(&fwd), 7);
	ATF_REQUIRE(memcmp(fwd.data, "payload", 7) == 0);
	ATF_REQUIRE_EQ(fwd.fd, -1);
	imsg_free(&fwd);
	imsg_free(&imsg);
	require_pipe_eof(p[0]);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	imsgbuf_clear(&c);
	imsgbuf_clear(&d);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
	close(sv2[0]);
	close(sv2[1]);
}

ATF_TC_WITHOUT_HEAD(clear_closes_queued_fds);
ATF_TC_BODY(clear_closes_queued_fds, tc)
{
	struct imsgbuf	 a, b;
	int		 sv[2], p[2], q[2];

	mkpair(sv, 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&a, sv[0]), 0);
	ATF_REQUIRE_EQ(imsgbuf_init(&b, sv[1]), 0);
	imsgbuf_allow_fdpass(&a);
	imsgbuf_allow_fdpass(&b);
	mkpipe(p);
	mkpipe(q);

	/* queued, never sent */
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, p[1], NULL, 0), 1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 1);
	imsgbuf_clear(&a);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&a), 0);
	ATF_REQUIRE_ERRNO(EBADF, fcntl(p[1], F_GETFD) == -1);
	require_pipe_eof(p[0]);
	imsgbuf_clear(&a);		/* twice is harmless */

	/* received, never taken by imsgbuf_get() */
	ATF_REQUIRE_EQ(imsg_compose(&a, T_TYPE, 0, T_PID, q[1], NULL, 0), 1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&a), 0);
	ATF_REQUIRE_EQ(imsgbuf_read(&b), 1);
	ATF_REQUIRE(!TAILQ_EMPTY(&b.fds));
	imsgbuf_clear(&b);
	require_pipe_eof(q[0]);
	imsgbuf_clear(&b);

	imsgbuf_clear(&a);
	close(p[0]);
	close(q[0]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, compose_get_roundtrip);
	ATF_TP_ADD_TC(tp, many_messages_one_write_batch);
	ATF_TP_ADD_TC(tp, partial_read_reassembles);
	ATF_TP_ADD_TC(tp, partial_write_resumes);
	ATF_TP_ADD_TC(tp, large_message_grows_read_buffer);
	ATF_TP_ADD_TC(tp, oversize_compose_refused);
	ATF_TP_ADD_TC(tp, oversize_header_len_rejected);
	ATF_TP_ADD_TC(tp, truncated_header_len_rejected);
	ATF_TP_ADD_TC(tp, exact_length_get_data);
	ATF_TP_ADD_TC(tp, fd_passing);
	ATF_TP_ADD_TC(tp, fd_refused_without_allow_fdpass);
	ATF_TP_ADD_TC(tp, ctrunc_detected);
	ATF_TP_ADD_TC(tp, eof_returns_zero);
	ATF_TP_ADD_TC(tp, cursor_reads_and_bounds);
	ATF_TP_ADD_TC(tp, forward_copies_message);
	ATF_TP_ADD_TC(tp, clear_closes_queued_fds);

	return (atf_no_error());
}
