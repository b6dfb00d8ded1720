ALTER TABLE "nodes" ADD COLUMN "queue_depth" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "slides" ADD COLUMN "published_by_node_id" uuid;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "node_id" uuid;