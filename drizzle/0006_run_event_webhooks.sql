-- Run status changes that fire webhooks (run.started / run.finished / run.failed) are NOTIFYed on commit with
-- the run_events id; every hub LISTENs (apps/server/src/services/webhook-relay.ts).
CREATE FUNCTION dapple_notify_run_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('dapple_run_webhooks', NEW.id::text);
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER run_events_webhook_notify
  AFTER INSERT ON run_events
  FOR EACH ROW
  WHEN (NEW.to_status IN ('running', 'succeeded', 'failed', 'cancelled'))
  EXECUTE FUNCTION dapple_notify_run_webhook();
