-- Whether the caller spoke (a phone call, or a browser call with the microphone) or typed (browser
-- chat, terminal): History tells voice and typed calls apart. Nullable: rows from before this
-- migration, and writers that do not set it, stay unknown.
alter table conversations add column if not exists voice boolean;
