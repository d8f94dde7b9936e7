#!/bin/sh
# summary.sh KYUA-OUTPUT
# Turn kyua's last line ("7/9 passed (2 failed)") into the line CI reads:
# "7 passed, 2 failed".  Tests kyua calls broken count as failed.
set -eu
line=$(grep -E '^[0-9]+/[0-9]+ passed' "$1" | tail -1)
if [ -z "$line" ]; then
	echo "0 passed, 1 failed"
	exit 0
fi
p=${line%%/*}
rest=${line#*/}
t=${rest%% *}
echo "$p passed, $((t - p)) failed"
