#!/bin/sh
# run-example.sh: run xmppgwd in the foreground on loopback with the
# example configuration (conf/xmppgwd.conf) and the throwaway CA and
# certificates "make" generated in conf/certs.  Stop it with ^C.
set -eu
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then
	echo "make run needs root: xmppgwd binds its sockets and reads its" >&2
	echo "keys as root, then drops to the _xmppgwd user (sudo make run)" >&2
	exit 1
fi
sh regress/lib/mkuser.sh
./xmppgwd/xmppgwd -n -f conf/xmppgwd.conf
echo "starting xmppgwd in the foreground; in another terminal try:"
echo "  ./xmppgwctl/xmppgwctl status"
echo "  ./xmppgwctl/xmppgwctl show partners"
exec ./xmppgwd/xmppgwd -d -v -f conf/xmppgwd.conf
