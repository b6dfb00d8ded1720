CREATE TYPE "public"."board_conclusion_kind" AS ENUM('contribution', 'agreed', 'addendum');--> statement-breakpoint
CREATE TABLE "board_conclusions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"item_id" uuid NOT NULL,
	"kind" "board_conclusion_kind" NOT NULL,
	"author_user_id" uuid NOT NULL,
	"text" text NOT NULL,
	"based_on" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "board_agenda_items" DROP CONSTRAINT "board_agenda_items_concluded_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "board_conclusions" ADD CONSTRAINT "board_conclusions_item_id_board_agenda_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."board_agenda_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "board_conclusions" ADD CONSTRAINT "board_conclusions_author_user_id_users_id_fk" FOREIGN KEY ("author_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "board_conclusions_item_idx" ON "board_conclusions" USING btree ("item_id","created_at");--> statement-breakpoint
ALTER TABLE "board_agenda_items" DROP COLUMN "conclusion";--> statement-breakpoint
ALTER TABLE "board_agenda_items" DROP COLUMN "concluded_by";