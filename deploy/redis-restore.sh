#!/bin/sh
# Restores an RDB backup into a stopped Redis's data directory, for a server that runs with
# appendonly yes (as docker-compose.yml's does). Copying dump.rdb alone is not enough there: a
# Redis with appendonly yes and no AOF starts EMPTY and ignores dump.rdb. So this loads the RDB
# into a private Redis with the AOF off, turns the AOF on (which writes it from the loaded data),
# waits for that, and stops. The next normal start then loads the AOF: the backup.
# With compose (Redis stopped), in a one-off redis container:
#   docker compose run --rm --no-deps -v ./backups:/backups:ro -v ./deploy:/deploy:ro \
#     redis sh /deploy/redis-restore.sh /backups/<file>.rdb
# Usage: redis-restore.sh BACKUP.rdb [DATA_DIR (default /data)]
set -eu
backup=${1:?usage: redis-restore.sh BACKUP.rdb [DATA_DIR]}
dir=${2:-/data}
[ -f "$backup" ] || { echo "restore: no such file: $backup" >&2; exit 1; }
[ -d "$dir" ] || { echo "restore: no such directory: $dir" >&2; exit 1; }
# Absolute: redis-server changes into --dir before it opens its log file.
dir=$(cd "$dir" && pwd)

sock="${TMPDIR:-/tmp}/pulse-restore-$$.sock"
cli="redis-cli -s $sock"
field() { $cli INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }
wait_for() { # wait_for DESCRIPTION COMMAND...: up to 5 minutes
  what=$1
  shift
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 600 ]; then
      echo "restore: gave up waiting for $what" >&2
      exit 1
    fi
    sleep 0.5
  done
}

rm -rf "$dir/appendonlydir" "$dir/appendonly.aof"
cp "$backup" "$dir/dump.rdb"
redis-server --port 0 --unixsocket "$sock" --dir "$dir" --dbfilename dump.rdb \
  --appendonly no --save "" --daemonize yes --logfile "$dir/restore.log"
wait_for "the backup to load" sh -c "$cli PING 2>/dev/null | grep -q PONG"
keys=$($cli INFO keyspace | tr -d '\r' | sed -n 's/^db[0-9]*:keys=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
$cli CONFIG SET appendonly yes >/dev/null
rewrite_done() {
  [ "$(field aof_rewrite_in_progress)" = 0 ] && [ "$(field aof_rewrite_scheduled)" = 0 ] &&
    [ "$(field aof_last_bgrewrite_status)" = ok ] && [ -f "$dir/appendonlydir/appendonly.aof.manifest" ]
}
wait_for "the AOF to be written" rewrite_done
$cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait_for "the private Redis to stop" sh -c "! [ -S '$sock' ]"
rm -f "$dir/restore.log"
echo "restore: $keys keys from $backup are in $dir (AOF written); start Redis normally"
