-- Which server instance serves a conversation, so that at start-up an instance can close the calls it
-- left open when it crashed (end_reason 'server_crashed') without touching another instance's calls.
-- Nullable: rows from before this migration, and writers that do not set it, stay untouched.
alter table conversations add column if not exists instance_id text;

-- The start-up sweep looks only at this instance's still-open rows.
create index if not exists conversations_open_instance_idx on conversations (instance_id) where ended_at is null;
