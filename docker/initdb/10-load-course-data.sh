#!/usr/bin/env bash
# Runs once, when the docker compose database is first created (docker-entrypoint-initdb.d).
# It loads the very files the embedded server loads: data/schema.sql, data/copy_products.sql and
# data/products.csv (mounted at $COURSE_DATA). The test suite runs this script against a real server.
set -euo pipefail
COURSE_DATA=${COURSE_DATA:-/course-data}
ROLE=${PGLAB_DB_USER:-learner}
PASSWORD=${PGLAB_DB_PASSWORD:?set PGLAB_DB_PASSWORD for the course role}
DB=${PGLAB_DB_NAME:-catalogue}
admin=(psql -v ON_ERROR_STOP=1 --no-psqlrc -q --username "${POSTGRES_USER:-postgres}" --dbname postgres)

"${admin[@]}" -v role="$ROLE" -v password="$PASSWORD" -v db="$DB" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role";
SQL

export PGPASSWORD="$PASSWORD"
course=(psql -v ON_ERROR_STOP=1 --no-psqlrc -q --username "$ROLE" --dbname "$DB")
"${course[@]}" -f "$COURSE_DATA/schema.sql"
"${course[@]}" -c "$(cat "$COURSE_DATA/copy_products.sql")" < "$COURSE_DATA/products.csv"
echo "pglab: course database '$DB' loaded from $COURSE_DATA"
