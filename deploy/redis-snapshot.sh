#!/bin/sh
# Writes a fresh RDB snapshot (dump.rdb in Redis's data directory) and waits until it is
# complete, so the file copied out next is whole and current. Runs where redis-cli reaches the
# server; with compose, inside the redis container:
#   docker compose exec -T redis sh < deploy/redis-snapshot.sh
# REDIS_CLI overrides how redis-cli is called (default: redis-cli, i.e. 127.0.0.1:6379).
set -eu
cli=${REDIS_CLI:-redis-cli}
field() { $cli INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }

# rdb_saves counts completed snapshots (LASTSAVE has whole seconds: a quick save can keep it).
before=$(field rdb_saves)
# SCHEDULE: during an AOF rewrite, ours starts right after it. A save already running began
# before this call, so wait for it and start ours afterwards (the copy must hold everything).
tries=0
until $cli BGSAVE SCHEDULE | grep -qi 'background saving'; do
  tries=$((tries + 1))
  if [ "$tries" -gt 600 ]; then
    echo "snapshot: Redis refused BGSAVE for 5 minutes" >&2
    exit 1
  fi
  sleep 0.5
  before=$(field rdb_saves)
done
tries=0
while [ "$(field rdb_saves)" = "$before" ] || [ "$(field rdb_bgsave_in_progress)" != 0 ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 600 ]; then
    echo "snapshot: no completed save after 5 minutes" >&2
    exit 1
  fi
  sleep 0.5
done
if [ "$(field rdb_last_bgsave_status)" != ok ]; then
  echo "snapshot: the save failed (rdb_last_bgsave_status=$(field rdb_last_bgsave_status)); see the redis log" >&2
  exit 1
fi
dir=$($cli CONFIG GET dir | tr -d '\r' | sed -n 2p)
file=$($cli CONFIG GET dbfilename | tr -d '\r' | sed -n 2p)
keys=$($cli INFO keyspace | tr -d '\r' | sed -n 's/^db[0-9]*:keys=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
echo "snapshot: $dir/$file complete ($keys keys, saved at $($cli LASTSAVE | tr -d '\r'))"
