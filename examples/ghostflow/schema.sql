-- ghostflow: a workflow engine's read models, kept by inline projections over its events.
--
-- Events (one stream per run, "run-<run_id>"; every event's data carries run_id and the
-- engine's own timestamp "at"):
--   WorkflowStarted   {run_id, workflow, at}
--   StepScheduled     {run_id, step, step_type, at}
--   StepCompleted     {run_id, step, at}
--   StepFailed        {run_id, step, error, at}
--   WorkflowCompleted {run_id, status ("succeeded" | "failed"), at}

CREATE TABLE workflow_runs (
    run_id       text PRIMARY KEY,
    workflow     text NOT NULL,
    status       text NOT NULL,
    started_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    completed_at timestamptz,
    steps_done   integer NOT NULL DEFAULT 0,
    steps_failed integer NOT NULL DEFAULT 0
);

CREATE TABLE workflow_steps (
    run_id       text NOT NULL,
    step         text NOT NULL,
    step_type    text NOT NULL,
    status       text NOT NULL,
    scheduled_at timestamptz NOT NULL,
    finished_at  timestamptz,
    error        text,
    PRIMARY KEY (run_id, step)
);

-- One row per run. zq_event is the event being applied; each statement picks the events
-- it handles with its WHERE clause.
SELECT * FROM zq_create_projection(
    'workflow_runs',
    ARRAY['WorkflowStarted', 'StepScheduled', 'StepCompleted', 'StepFailed', 'WorkflowCompleted'],
    $$
    INSERT INTO workflow_runs (run_id, workflow, status, started_at, updated_at)
    SELECT data->>'run_id', data->>'workflow', 'running',
           (data->>'at')::timestamptz, (data->>'at')::timestamptz
    FROM zq_event WHERE type = 'WorkflowStarted';

    UPDATE workflow_runs SET
        updated_at   = (SELECT (data->>'at')::timestamptz FROM zq_event),
        steps_done   = steps_done + (SELECT CASE WHEN type = 'StepCompleted' THEN 1 ELSE 0 END FROM zq_event),
        steps_failed = steps_failed + (SELECT CASE WHEN type = 'StepFailed' THEN 1 ELSE 0 END FROM zq_event),
        status       = COALESCE((SELECT data->>'status' FROM zq_event WHERE type = 'WorkflowCompleted'), status),
        completed_at = COALESCE((SELECT (data->>'at')::timestamptz FROM zq_event WHERE type = 'WorkflowCompleted'), completed_at)
    WHERE run_id = (SELECT data->>'run_id' FROM zq_event)
      AND (SELECT type FROM zq_event) <> 'WorkflowStarted'
    $$);

-- One row per step of a run.
SELECT * FROM zq_create_projection(
    'workflow_steps',
    ARRAY['StepScheduled', 'StepCompleted', 'StepFailed'],
    $$
    INSERT INTO workflow_steps (run_id, step, step_type, status, scheduled_at)
    SELECT data->>'run_id', data->>'step', data->>'step_type', 'scheduled', (data->>'at')::timestamptz
    FROM zq_event WHERE type = 'StepScheduled';

    UPDATE workflow_steps SET
        status      = (SELECT CASE WHEN type = 'StepCompleted' THEN 'completed' ELSE 'failed' END FROM zq_event),
        finished_at = (SELECT (data->>'at')::timestamptz FROM zq_event),
        error       = (SELECT data->>'error' FROM zq_event)
    WHERE run_id = (SELECT data->>'run_id' FROM zq_event)
      AND step = (SELECT data->>'step' FROM zq_event)
      AND (SELECT type FROM zq_event) IN ('StepCompleted', 'StepFailed')
    $$);
