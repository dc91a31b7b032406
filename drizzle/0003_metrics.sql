CREATE TABLE "metric_keys" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "metric_keys_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"run_id" uuid NOT NULL,
	"key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "metric_points" (
	"key_id" integer NOT NULL,
	"step" integer NOT NULL,
	"value" double precision NOT NULL,
	"wall_time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "metric_points_key_id_step_pk" PRIMARY KEY("key_id","step")
);
--> statement-breakpoint
CREATE TABLE "metric_rollups" (
	"key_id" integer NOT NULL,
	"level" smallint NOT NULL,
	"bucket" integer NOT NULL,
	"count" integer NOT NULL,
	"non_finite" integer NOT NULL,
	"sum" double precision NOT NULL,
	"min" double precision,
	"max" double precision,
	"last_step" integer,
	"last_value" double precision,
	CONSTRAINT "metric_rollups_key_id_level_bucket_pk" PRIMARY KEY("key_id","level","bucket")
);
--> statement-breakpoint
ALTER TABLE "metric_keys" ADD CONSTRAINT "metric_keys_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "metric_points" ADD CONSTRAINT "metric_points_key_id_metric_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."metric_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "metric_rollups" ADD CONSTRAINT "metric_rollups_key_id_metric_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."metric_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "metric_keys_run_key_key" ON "metric_keys" USING btree ("run_id","key");