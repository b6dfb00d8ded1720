CREATE TABLE "audit_checkpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"lab_id" uuid,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"key_id" text NOT NULL,
	"signature" text NOT NULL,
	CONSTRAINT "audit_checkpoint_seq" UNIQUE NULLS NOT DISTINCT("lab_id","seq")
);
--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_actor_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_lab_id_labs_id_fk";
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "seq" bigint;--> statement-breakpoint
-- Rows from before the chain: numbered per lab in a deterministic order, times cut to the
-- millisecond a JavaScript Date keeps; the hub seals them (prev_hash, hash) when it starts.
UPDATE "audit_events" a SET "seq" = o.n, "created_at" = date_trunc('milliseconds', a."created_at")
  FROM (SELECT "id", row_number() OVER (PARTITION BY "lab_id" ORDER BY "created_at", "id") AS n FROM "audit_events") o
  WHERE o."id" = a."id";--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "seq" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "hash" text;--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD CONSTRAINT "audit_checkpoints_lab_id_labs_id_fk" FOREIGN KEY ("lab_id") REFERENCES "public"."labs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_lab_id_labs_id_fk" FOREIGN KEY ("lab_id") REFERENCES "public"."labs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_chain_seq" UNIQUE NULLS NOT DISTINCT("lab_id","seq");--> statement-breakpoint
-- Append-only: an insert must extend its chain's head (next sequence number, previous hash);
-- UPDATE, DELETE and TRUNCATE are refused, except sealing a pre-chain row once (hash was null,
-- nothing else changes).
CREATE FUNCTION "audit_events_guard"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_seq bigint;
  head_hash text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.hash IS NULL OR NEW.prev_hash IS NULL THEN
      RAISE EXCEPTION 'audit entries are written sealed (hash and prev_hash)' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.lab_id IS NULL THEN
      SELECT seq, hash INTO head_seq, head_hash FROM audit_events WHERE lab_id IS NULL ORDER BY seq DESC LIMIT 1;
    ELSE
      SELECT seq, hash INTO head_seq, head_hash FROM audit_events WHERE lab_id = NEW.lab_id ORDER BY seq DESC LIMIT 1;
    END IF;
    IF NEW.seq <> coalesce(head_seq, 0) + 1 OR NEW.prev_hash IS DISTINCT FROM coalesce(head_hash, repeat('0', 64)) THEN
      RAISE EXCEPTION 'audit entry % does not extend its chain (head is %)', NEW.seq, coalesce(head_seq, 0) USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
     AND (NEW.id, NEW.lab_id, NEW.actor_user_id, NEW.action, NEW.target_type, NEW.target_id, NEW.detail, NEW.ip, NEW.seq, NEW.created_at)
       IS NOT DISTINCT FROM (OLD.id, OLD.lab_id, OLD.actor_user_id, OLD.action, OLD.target_type, OLD.target_id, OLD.detail, OLD.ip, OLD.seq, OLD.created_at) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_events_append_only" BEFORE INSERT OR UPDATE OR DELETE ON "audit_events" FOR EACH ROW EXECUTE FUNCTION "audit_events_guard"();--> statement-breakpoint
CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events" FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_guard"();--> statement-breakpoint
CREATE FUNCTION "audit_checkpoints_guard"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit checkpoints are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_checkpoints_append_only" BEFORE UPDATE OR DELETE ON "audit_checkpoints" FOR EACH ROW EXECUTE FUNCTION "audit_checkpoints_guard"();--> statement-breakpoint
CREATE TRIGGER "audit_checkpoints_no_truncate" BEFORE TRUNCATE ON "audit_checkpoints" FOR EACH STATEMENT EXECUTE FUNCTION "audit_checkpoints_guard"();--> statement-breakpoint
-- Where the app runs as a role that does not own the tables (infra/postgres.sh, the cloud),
-- it keeps SELECT and INSERT only; only the owner could disable the triggers.
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
    WHERE table_schema = 'public' AND table_name IN ('audit_events', 'audit_checkpoints') AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND grantee <> current_user
  LOOP
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON "audit_events", "audit_checkpoints" FROM %I', r.grantee);
  END LOOP;
END $$;
