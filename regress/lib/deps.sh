#!/bin/sh
# deps.sh PACKAGE[>=VERSION] ... [-- PACKAGE[>=VERSION] ...]
# Install the Debian packages xmppgwd needs that are missing, and
# upgrade those older than the version given (security fixes): with
# apt-get when root, otherwise print the command to run.  "--" only
# separates build from test packages, for the reader.
set -eu

missing=""
old=""
for p in "$@"; do
	[ "$p" = "--" ] && continue
	pkg=${p%%>=*}
	s=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$s" in
	*"install ok installed"*) ;;
	*) missing="$missing $pkg"; continue ;;
	esac
	[ "$pkg" = "$p" ] && continue
	v=$(dpkg-query -W -f='${Version}' "$pkg")
	dpkg --compare-versions "$v" ge "${p#*>=}" || old="$old $pkg"
done
[ -z "$missing$old" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "xmppgwd needs these Debian packages (or newer ones):$missing$old" >&2
	echo "install them with: sudo apt-get install$missing$old" >&2
	exit 1
fi
echo "installing:$missing${old:+ (upgrading:$old)}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing $old >/dev/null
for p in "$@"; do
	case "$p" in
	*">="*)
		v=$(dpkg-query -W -f='${Version}' "${p%%>=*}")
		dpkg --compare-versions "$v" ge "${p#*>=}" ||
		    echo "deps: ${p%%>=*} $v is older than ${p#*>=}, which has" \
			"security fixes; no newer one is available here" >&2
		;;
	esac
done
exit 0
