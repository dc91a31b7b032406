-- Dataset changes a team's dashboard lists follow (a dataset created, renamed or deleted; a version added,
-- deleted or changing status) are NOTIFYed on commit with the team and dataset ids; every hub LISTENs
-- (apps/server/src/services/team-activity.ts) and feeds the teamActivity subscription. A trigger, so every
-- place that changes a dataset (API, prepare job, expiry) is covered without knowing about it.
CREATE FUNCTION dapple_notify_dataset_activity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ds_team uuid;
  ds_id uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN
    ds_team := OLD.team_id;
    ds_id := OLD.id;
  ELSE
    ds_team := NEW.team_id;
    ds_id := NEW.id;
  END IF;
  PERFORM pg_notify('dapple_team_activity', json_build_object('kind', 'dataset', 'teamId', ds_team, 'id', ds_id)::text);
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE FUNCTION dapple_notify_dataset_version_activity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ds_team uuid;
  ds_id uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN
    ds_id := OLD.dataset_id;
  ELSE
    ds_id := NEW.dataset_id;
  END IF;
  -- Gone when the whole dataset is being deleted: its own trigger says so.
  SELECT team_id INTO ds_team FROM datasets WHERE id = ds_id;
  IF ds_team IS NOT NULL THEN
    PERFORM pg_notify('dapple_team_activity', json_build_object('kind', 'dataset', 'teamId', ds_team, 'id', ds_id)::text);
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER datasets_team_activity_notify
  AFTER INSERT OR UPDATE OR DELETE ON datasets
  FOR EACH ROW
  EXECUTE FUNCTION dapple_notify_dataset_activity();--> statement-breakpoint
CREATE TRIGGER dataset_versions_team_activity_insert_delete
  AFTER INSERT OR DELETE ON dataset_versions
  FOR EACH ROW
  EXECUTE FUNCTION dapple_notify_dataset_version_activity();--> statement-breakpoint
CREATE TRIGGER dataset_versions_team_activity_status
  AFTER UPDATE ON dataset_versions
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION dapple_notify_dataset_version_activity();
