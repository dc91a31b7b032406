-- Published model versions are immutable: any UPDATE is refused, except the ON DELETE SET NULL of
-- dataset_version_id when the training dataset version is deleted (its content hash stays in the row).
CREATE FUNCTION dapple_model_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (to_jsonb(NEW) - 'dataset_version_id') IS DISTINCT FROM (to_jsonb(OLD) - 'dataset_version_id') THEN
    RAISE EXCEPTION 'model version % (number %) is immutable: publish a new version instead', OLD.id, OLD.number
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER model_versions_immutable
  BEFORE UPDATE ON model_versions
  FOR EACH ROW
  EXECUTE FUNCTION dapple_model_versions_immutable();
