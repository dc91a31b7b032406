CREATE TYPE "public"."api_token_scope" AS ENUM('read', 'write');--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "scope" "api_token_scope" DEFAULT 'write' NOT NULL;