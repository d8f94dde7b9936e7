# xmppgwd - XMPP federation gateway for SIP enterprise IM and presence
# GNU make.  make [all|deps|run|install|regress|lint|clean]

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR	?= /lib/systemd/system
DESTDIR	?=

CC	?= cc
YACC	= byacc
PKG_CONFIG ?= pkg-config

# Debian 12 packages the build, the tests and "make run" need.
DEB_BUILD = build-essential pkg-config byacc libtls-dev libevent-dev \
	libexpat1-dev libbsd-dev libunbound-dev libsqlite3-dev libssl-dev
# at least these versions: the expat defences xml.c sets (Debian 12
# security updates)
DEB_MIN = libexpat1>=2.5.0-1+deb12u5 libexpat1-dev>=2.5.0-1+deb12u5
DEB_TEST = kyua atf-sh libatf-dev mandoc openssl iproute2 procps \
	prosody lua-unbound lua-event dnsmasq-base sip-tester python3-slixmpp \
	stunnel4

PKGS	= libtls libevent_core libbsd-overlay expat libunbound sqlite3
WARN	= -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	  -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	  -Wsign-compare -Wno-unused-parameter
HARDEN	= -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS	?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -DSYSCONFDIR='"$(SYSCONFDIR)"' -Ixmppgwd
XCFLAGS	= -std=gnu11 $(WARN) $(HARDEN) $(CFLAGS) $(CPPFLAGS) \
	  $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDFLAGS	+= -pie -Wl,-z,relro,-z,now
LIBS	= $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lcrypto

# byacc output is not ours; it is built without -Werror for the
# warnings its skeleton triggers, and checked by the grammar tests.
YFLAGS_C = -Wno-sign-compare -Wno-unused-function

COMMON	= xmppgwd/imsg.c xmppgwd/log.c
D_SRCS	= xmppgwd/xmppgwd.c xmppgwd/proc.c xmppgwd/sandbox.c \
	  xmppgwd/config.c xmppgwd/printconf.c xmppgwd/partner.c \
	  xmppgwd/control.c xmppgwd/tls.c xmppgwd/dialback.c \
	  xmppgwd/policy.c xmppgwd/sip.c xmppgwd/stream.c xmppgwd/xml.c \
	  xmppgwd/stanza.c xmppgwd/auth.c xmppgwd/dns.c xmppgwd/sipmsg.c \
	  xmppgwd/map.c xmppgwd/store.c xmppgwd/tlssrv.c $(COMMON)
C_SRCS	= xmppgwctl/xmppgwctl.c xmppgwctl/parser.c xmppgwctl/output.c \
	  xmppgwctl/certreq.c xmppgwd/partner.c \
	  $(COMMON)

D_OBJS	= $(D_SRCS:.c=.o) xmppgwd/parse.o
C_OBJS	= $(C_SRCS:.c=.o)
HDRS	= xmppgwd/xmppgwd.h xmppgwd/imsg.h xmppgwd/log.h \
	  xmppgwd/control.h xmppgwctl/parser.h xmppgwctl/output.h \
	  xmppgwctl/certreq.h \
	  xmppgwd/s2s.h xmppgwd/xml.h xmppgwd/stanza.h xmppgwd/auth.h \
	  xmppgwd/dns.h xmppgwd/sipmsg.h xmppgwd/map.h xmppgwd/store.h

PROGS	= xmppgwd/xmppgwd xmppgwctl/xmppgwctl
MANS	= man/xmppgwd.8 man/xmppgwd.conf.5 man/xmppgwctl.8

# throwaway CA, certificates and dialback secret for conf/xmppgwd.conf
EXAMPLE_CERTS = conf/certs/.stamp

.PHONY: all deps run install regress lint clean bench fuzz

all: $(PROGS) $(EXAMPLE_CERTS)

xmppgwd/xmppgwd: $(D_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(D_OBJS) $(LIBS)

xmppgwctl/xmppgwctl: $(C_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(C_OBJS) $(LIBS)

%.o: %.c $(HDRS)
	$(CC) $(XCFLAGS) -c -o $@ $<

xmppgwd/parse.c: xmppgwd/parse.y
	$(YACC) -o $@ $<

xmppgwd/parse.o: xmppgwd/parse.c $(HDRS)
	$(CC) $(XCFLAGS) $(YFLAGS_C) -c -o $@ $<

$(EXAMPLE_CERTS): regress/lib/mkcerts.sh
	sh regress/lib/mkcerts.sh conf/certs contoso.example
	touch $@

# Install what is missing from Debian's packages: apt-get as root,
# otherwise say which packages to install.
deps:
	@sh regress/lib/deps.sh $(DEB_BUILD) $(foreach p,$(DEB_MIN),'$(p)') -- $(DEB_TEST)

# Build and run the gateway in the foreground on loopback with the
# example configuration and throwaway certificates.
run: deps
	@$(MAKE) --no-print-directory all
	sh regress/lib/run-example.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/xmppgwd \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/init.d
	install -m 0755 xmppgwd/xmppgwd xmppgwctl/xmppgwctl \
	    $(DESTDIR)$(SBINDIR)
	install -m 0644 man/xmppgwd.conf.5 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 man/xmppgwd.8 man/xmppgwctl.8 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 conf/xmppgwd.conf \
	    $(DESTDIR)$(SYSCONFDIR)/xmppgwd/xmppgwd.conf.example
	sed 's,@SBINDIR@,$(SBINDIR),g; s,@SYSCONFDIR@,$(SYSCONFDIR),g' \
	    conf/xmppgwd.service > $(DESTDIR)$(UNITDIR)/xmppgwd.service
	sed 's,@SBINDIR@,$(SBINDIR),g; s,@SYSCONFDIR@,$(SYSCONFDIR),g' \
	    conf/xmppgwd.rc > $(DESTDIR)$(SYSCONFDIR)/init.d/xmppgwd
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/init.d/xmppgwd
	@if [ -z "$(DESTDIR)" ]; then sh regress/lib/mkuser.sh; fi

# libFuzzer targets under ASan/UBSan, each for FUZZTIME seconds
FUZZTIME ?= 60
DEB_FUZZ = clang libclang-rt-14-dev
fuzz:
	@sh regress/lib/deps.sh $(DEB_FUZZ)
	$(MAKE) -C regress/fuzz run FUZZTIME=$(FUZZTIME)

# Throughput, latency and CPU per message through the whole gateway, on
# loopback in a network namespace of its own (root); see regress/bench/README
bench: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C regress/bench
	sh regress/bench/bench.sh

lint:
	mandoc -Tlint -Wwarning $(MANS)

regress: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C regress

clean:
	rm -f $(D_OBJS) $(C_OBJS) $(PROGS) xmppgwd/parse.c
	rm -rf conf/certs
	@$(MAKE) --no-print-directory -C regress clean
	@$(MAKE) --no-print-directory -C regress/fuzz clean
	@$(MAKE) --no-print-directory -C regress/bench clean
