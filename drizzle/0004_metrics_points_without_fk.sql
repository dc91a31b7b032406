ALTER TABLE "metric_points" DROP CONSTRAINT "metric_points_key_id_metric_keys_id_fk";
--> statement-breakpoint
ALTER TABLE "metric_rollups" DROP CONSTRAINT "metric_rollups_key_id_metric_keys_id_fk";
--> statement-breakpoint
-- Points and rollups go with their key (and so with their run) through this trigger instead of a
-- per-row foreign key; ingest locks its keys FOR KEY SHARE instead (packages/db/src/metrics/ingest-sql.ts).
CREATE FUNCTION "metric_keys_delete_series"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "metric_points" p USING "deleted_keys" d WHERE p."key_id" = d."id";
  DELETE FROM "metric_rollups" r USING "deleted_keys" d WHERE r."key_id" = d."id";
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "metric_keys_delete_series" AFTER DELETE ON "metric_keys"
  REFERENCING OLD TABLE AS "deleted_keys" FOR EACH STATEMENT EXECUTE FUNCTION "metric_keys_delete_series"();
