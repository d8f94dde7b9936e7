#!/bin/sh
# deps.sh BUILD-PACKAGES -- TEST-PACKAGES
# Install the Debian packages xmppgwd needs that are missing: with
# apt-get when root, otherwise print the command to run.
set -eu

missing=""
for p in "$@"; do
	[ "$p" = "--" ] && continue
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "xmppgwd needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
