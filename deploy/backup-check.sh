#!/usr/bin/env bash
# Check that a PostgreSQL backup restores: dump DATABASE_URL with pg_dump (custom format),
# restore it with pg_restore into a scratch database on the same server, compare every table's
# row count and content checksum and the migration revision, then drop the scratch database.
# Exit status 0 when everything matches.
#
#   deploy/backup-check.sh postgresql://user@host:5432/leadsite [dump-file]
#
# With a dump file given it is kept (a backup made and checked at once); without, a temporary
# one is removed. SCRATCH_DB names the scratch database (default <db>_restorecheck). The dump
# and the original's checksums are taken in one snapshot, so writes going on meanwhile are not
# differences. The checksums read every row: on a large database, run it off hours.
set -euo pipefail

url=${1:?usage: $0 DATABASE_URL [dump-file]}
url=${url/postgresql+psycopg:/postgresql:}
url=${url/#postgres:/postgresql:}
base=${url%%\?*}
database=${base##*/}
scratch=${SCRATCH_DB:-${database}_restorecheck}
scratch_url=${base%/*}/$scratch
keep_dump=${2:+yes}
dump=${2:-$(mktemp --suffix=.dump)}

PSQL=(psql -X --no-psqlrc -A -t -q -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" "$1" -c "$2"; }
tables_sql="SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables
            WHERE schemaname = 'public'"
# name|rows|md5 of the rows as text, in a stable order
table_sql() {
  printf "SELECT '%s' || '|' || count(*) || '|' || md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM public.\"%s\" t;\n" "$1" "$1"
}

cleanup() {
  [[ -n ${SNAPSHOT_PID:-} ]] && kill "$SNAPSHOT_PID" 2>/dev/null || true
  sql "$url" "DROP DATABASE IF EXISTS \"$scratch\"" >/dev/null 2>&1 || true
  [[ -n $keep_dump ]] || rm -f "$dump"
}
trap cleanup EXIT

# A session that holds the snapshot: pg_dump reads it, and the original is counted in it.
coproc SNAPSHOT { "${PSQL[@]}" "$url"; }
ask() { printf '%s\n' "$1" >&"${SNAPSHOT[1]}"; IFS= read -r reply <&"${SNAPSHOT[0]}"; }
ask "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot();"
snapshot=$reply

echo "dumping $database (snapshot $snapshot)"
pg_dump --format=custom --no-owner --snapshot="$snapshot" --file="$dump" "$url"
ask "$tables_sql;"
original=""
for table in $reply; do
  ask "$(table_sql "$table")"
  original+="$reply"$'\n'
done
ask "SELECT string_agg(version_num, ',') FROM alembic_version;"
revision=$reply
printf 'COMMIT;\n\\q\n' >&"${SNAPSHOT[1]}"

echo "restoring into $scratch"
sql "$url" "DROP DATABASE IF EXISTS \"$scratch\"" >/dev/null
sql "$url" "CREATE DATABASE \"$scratch\"" >/dev/null
pg_restore --no-owner --exit-on-error --dbname="$scratch_url" "$dump"
restored=$(for table in $(sql "$scratch_url" "$tables_sql"); do table_sql "$table"; done \
  | "${PSQL[@]}" "$scratch_url")$'\n'
restored_revision=$(sql "$scratch_url" "SELECT string_agg(version_num, ',') FROM alembic_version")

if [[ $original != "$restored" || $revision != "$restored_revision" ]]; then
  echo "MISMATCH between $database and its restored copy:"
  diff <(printf '%s' "$original"; echo "revision $revision") \
       <(printf '%s' "$restored"; echo "revision $restored_revision") || true
  exit 1
fi
printf '%s' "$original" | awk -F'|' '{printf "  %-32s %10d rows\n", $1, $2}'
echo "OK: $(printf '%s' "$original" | wc -l) tables, row counts and checksums equal; revision $revision"
