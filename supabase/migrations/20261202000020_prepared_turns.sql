-- Preemptive generation: replies prepared while the endpointing patience ran, and what became of
-- them. Committed: the caller said nothing more and the prepared reply was played. Discarded: the
-- caller went on, and the prepared LLM/TTS work was thrown away before any of it reached the
-- caller. Rows from before this migration read 0.
alter table conversation_metrics add column if not exists prepared_turns_committed integer not null default 0;
alter table conversation_metrics add column if not exists prepared_turns_discarded integer not null default 0;
