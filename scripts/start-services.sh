#!/usr/bin/env bash
# Starts the services the test suite needs that it does not start itself:
# a PostgreSQL cluster with a database "armored_test" for the storage tests. Idempotent.
set -euo pipefail
if command -v pg_lsclusters >/dev/null 2>&1; then
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
    ver=$(pg_lsclusters -h | awk 'NR==1{print $1}')
    name=$(pg_lsclusters -h | awk 'NR==1{print $2}')
    if [ -n "$ver" ]; then
      pg_ctlcluster "$ver" "$name" start
    fi
  fi
  if pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
    # Tests run as root and connect over the Unix socket with peer authentication:
    # no password exists anywhere.
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\"" | grep -q 1 ||
      su postgres -c "psql -qc \"CREATE ROLE root SUPERUSER LOGIN\""
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='armored_test'\"" | grep -q 1 ||
      su postgres -c "createdb -O root armored_test"
  fi
fi
