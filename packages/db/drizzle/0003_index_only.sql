CREATE TYPE "public"."fetch_order_status" AS ENUM('pending', 'taken', 'done', 'failed');--> statement-breakpoint
ALTER TYPE "public"."slide_status" ADD VALUE 'indexed' BEFORE 'received';--> statement-breakpoint
ALTER TYPE "public"."slide_status" ADD VALUE 'fetching' BEFORE 'received';--> statement-breakpoint
CREATE TABLE "fetch_orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"lab_id" uuid NOT NULL,
	"node_id" uuid NOT NULL,
	"slide_id" uuid NOT NULL,
	"status" "fetch_order_status" DEFAULT 'pending' NOT NULL,
	"requested_by" uuid,
	"attempts" integer DEFAULT 0 NOT NULL,
	"taken_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fetch_orders_slide_id_unique" UNIQUE("slide_id")
);
--> statement-breakpoint
ALTER TABLE "slides" ALTER COLUMN "sha256" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "slides" ALTER COLUMN "source_key" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "slides" ADD COLUMN "node_ref" text;--> statement-breakpoint
ALTER TABLE "fetch_orders" ADD CONSTRAINT "fetch_orders_lab_id_labs_id_fk" FOREIGN KEY ("lab_id") REFERENCES "public"."labs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fetch_orders" ADD CONSTRAINT "fetch_orders_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fetch_orders" ADD CONSTRAINT "fetch_orders_slide_id_slides_id_fk" FOREIGN KEY ("slide_id") REFERENCES "public"."slides"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fetch_orders" ADD CONSTRAINT "fetch_orders_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "fetch_orders_node_status_idx" ON "fetch_orders" USING btree ("node_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "slides_lab_node_ref_idx" ON "slides" USING btree ("lab_id","node_ref");