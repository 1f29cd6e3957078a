-- The questions ghostflow's users ask. psql variable :run names the run for the history.

\echo '== runs stuck for more than 5 minutes'
SELECT run_id, workflow, updated_at < now() - interval '5 minutes' AS stuck, steps_done
FROM workflow_runs
WHERE status = 'running' AND updated_at < now() - interval '5 minutes'
ORDER BY run_id;

\echo '== failure rate by step type per hour'
SELECT finished_at::date AS day,
       date_part('hour', finished_at) AS hour,
       step_type,
       count(*) AS finished,
       sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
       round(100.0 * sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) / count(*), 1) AS failure_pct
FROM workflow_steps
WHERE finished_at IS NOT NULL
GROUP BY finished_at::date, date_part('hour', finished_at), step_type
ORDER BY day, hour, step_type;

\echo '== history of run' :run
SELECT version, type, data->>'step' AS step, data->>'error' AS error
FROM zq_events
WHERE stream = 'run-' || :'run'
ORDER BY version;

\echo '== projections'
SELECT name, event_types, last_position, events_applied FROM zq_projections ORDER BY name;
