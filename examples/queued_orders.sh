#!/bin/sh
# Starts a PostgreSQL server of its own (Debian's postgresql: initdb and pg_ctl on a temporary
# directory, a Unix socket, no TCP; as user "nobody" when run as root, since PostgreSQL refuses
# root), queues 20 orders with one process, runs them with two worker processes at once, reports,
# and stops the server.
#   examples/queued_orders.sh <path of the queued_orders program>
set -eu
program=${1:?usage: queued_orders.sh <path of queued_orders>}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
dir=$(mktemp -d /tmp/lightflow-orders-XXXXXX)
as=""
if [ "$(id -u)" = 0 ]; then
  chown nobody "$dir"
  as="runuser -u nobody --"
fi
stop() { $as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT
$as "$bin/initdb" -D "$dir/data" -U lightflow --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1
$as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-k $dir -c listen_addresses=''" start >/dev/null
conninfo="host=$dir user=lightflow dbname=postgres"

"$program" produce "$conninfo" 20
"$program" work "$conninfo" worker-a & a=$!
"$program" work "$conninfo" worker-b & b=$!
wait $a
wait $b
"$program" report "$conninfo"
