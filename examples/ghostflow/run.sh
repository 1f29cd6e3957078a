#!/usr/bin/env bash
# ghostflow against a live zqlite: creates the read models and their projections, appends
# the events of four workflow runs (over HTTP with curl, and over SQL with zq_append),
# shows an expected-version conflict, and runs the queries of queries.sql.
#
#   examples/ghostflow/run.sh                       # zqlite on the default ports
#   ZQ_PG_PORT=5433 ZQ_HTTP=http://127.0.0.1:8081 examples/ghostflow/run.sh
#
# Needs bash, curl, psql and GNU date. Run it on an empty database (it creates tables).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ZQ_PG_HOST=${ZQ_PG_HOST:-127.0.0.1}
ZQ_PG_PORT=${ZQ_PG_PORT:-5432}
ZQ_HTTP=${ZQ_HTTP:-http://127.0.0.1:8080}

sql() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$ZQ_PG_HOST" -p "$ZQ_PG_PORT" -U zqlite zqlite "$@"
}

# An ISO 8601 time this many minutes ago (the engine's own clock in the events).
ago() { date -u -d "-$1 minutes" +%Y-%m-%dT%H:%M:%SZ; }

# append STREAM EXPECTED_VERSION EVENTS_JSON: POST /v1/streams/STREAM, prints the answer.
append() {
    curl -sS --fail-with-body -X POST "$ZQ_HTTP/v1/streams/$1" \
        -H 'content-type: application/json' \
        -d "{\"expected_version\": $2, \"events\": $3}"
    echo
}

echo '== schema and projections'
sql -f "$here/schema.sql"

echo '== appending over HTTP'
# r1: succeeded 25 minutes ago.
append run-r1 '"no_stream"' "[
  {\"type\": \"WorkflowStarted\", \"data\": {\"run_id\": \"r1\", \"workflow\": \"ingest\", \"at\": \"$(ago 30)\"}},
  {\"type\": \"StepScheduled\", \"data\": {\"run_id\": \"r1\", \"step\": \"fetch\", \"step_type\": \"http\", \"at\": \"$(ago 29)\"}},
  {\"type\": \"StepCompleted\", \"data\": {\"run_id\": \"r1\", \"step\": \"fetch\", \"at\": \"$(ago 28)\"}},
  {\"type\": \"StepScheduled\", \"data\": {\"run_id\": \"r1\", \"step\": \"load\", \"step_type\": \"sql\", \"at\": \"$(ago 27)\"}},
  {\"type\": \"StepCompleted\", \"data\": {\"run_id\": \"r1\", \"step\": \"load\", \"at\": \"$(ago 26)\"}},
  {\"type\": \"WorkflowCompleted\", \"data\": {\"run_id\": \"r1\", \"status\": \"succeeded\", \"at\": \"$(ago 25)\"}}]"
# r2: its fetch failed, the retry passed, and its load step has waited for 12 minutes.
append run-r2 '"no_stream"' "[
  {\"type\": \"WorkflowStarted\", \"data\": {\"run_id\": \"r2\", \"workflow\": \"ingest\", \"at\": \"$(ago 20)\"}},
  {\"type\": \"StepScheduled\", \"data\": {\"run_id\": \"r2\", \"step\": \"fetch\", \"step_type\": \"http\", \"at\": \"$(ago 19)\"}},
  {\"type\": \"StepFailed\", \"data\": {\"run_id\": \"r2\", \"step\": \"fetch\", \"error\": \"HTTP 503\", \"at\": \"$(ago 18)\"}},
  {\"type\": \"StepScheduled\", \"data\": {\"run_id\": \"r2\", \"step\": \"fetch-retry\", \"step_type\": \"http\", \"at\": \"$(ago 17)\"}},
  {\"type\": \"StepCompleted\", \"data\": {\"run_id\": \"r2\", \"step\": \"fetch-retry\", \"at\": \"$(ago 15)\"}},
  {\"type\": \"StepScheduled\", \"data\": {\"run_id\": \"r2\", \"step\": \"load\", \"step_type\": \"sql\", \"at\": \"$(ago 12)\"}}]"

echo '== appending over SQL (zq_append)'
# r3: started a minute ago, running. r4: failed.
sql -At -c "SELECT stream, first_version, last_version FROM zq_append('run-r3', 'no_stream', '[
  {\"type\": \"WorkflowStarted\", \"data\": {\"run_id\": \"r3\", \"workflow\": \"report\", \"at\": \"$(ago 1)\"}},
  {\"type\": \"StepScheduled\", \"data\": {\"run_id\": \"r3\", \"step\": \"render\", \"step_type\": \"python\", \"at\": \"$(ago 1)\"}}]')"
sql -At -c "SELECT stream, first_version, last_version FROM zq_append('run-r4', 'no_stream', '[
  {\"type\": \"WorkflowStarted\", \"data\": {\"run_id\": \"r4\", \"workflow\": \"report\", \"at\": \"$(ago 40)\"}},
  {\"type\": \"StepScheduled\", \"data\": {\"run_id\": \"r4\", \"step\": \"render\", \"step_type\": \"python\", \"at\": \"$(ago 39)\"}},
  {\"type\": \"StepFailed\", \"data\": {\"run_id\": \"r4\", \"step\": \"render\", \"error\": \"KeyError: total\", \"at\": \"$(ago 38)\"}}]')"
# The engine finishes r4 inside a transaction that also records an audit note: the event,
# its projection rows and the note commit together.
sql -At <<SQL
CREATE TABLE IF NOT EXISTS run_notes (run_id text PRIMARY KEY, note text);
BEGIN;
SELECT stream, first_version FROM zq_append('run-r4', '2', '[{"type": "WorkflowCompleted", "data": {"run_id": "r4", "status": "failed", "at": "$(ago 37)"}}]');
INSERT INTO run_notes VALUES ('r4', 'gave up after render failed');
COMMIT;
SQL

echo '== a stale writer loses (expected version 0, the stream is at 5)'
if sql -At -c "SELECT * FROM zq_append('run-r1', '0', '[{\"type\": \"StepScheduled\", \"data\": {\"run_id\": \"r1\", \"step\": \"late\", \"step_type\": \"sql\", \"at\": \"$(ago 0)\"}}]')" 2>&1; then
    echo 'unexpected: the stale append succeeded' >&2
    exit 1
fi

echo '== runs'
sql -At -F ' | ' -c "SELECT run_id, workflow, status, steps_done, steps_failed FROM workflow_runs ORDER BY run_id"
sql -At -F ' | ' -v run=r2 -f "$here/queries.sql"
