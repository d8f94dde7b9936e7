#!/bin/sh
# mkuser.sh [USER]
# Create the unprivileged system user xmppgwd's children run as, and the
# empty chroot directory, if they do not exist yet.
set -eu
u=${1:-_xmppgwd}
if ! getent passwd "$u" >/dev/null; then
	useradd --system --no-create-home --home-dir /var/empty \
	    --shell /usr/sbin/nologin --user-group "$u"
	echo "created user $u"
fi
install -d -m 0755 -o root -g root /var/empty
