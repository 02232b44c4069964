-- statecall: the single schema (Supabase CLI `supabase db push`, and the sql adapters' own runner).
-- Unqualified names on purpose: the same file runs in `public` or in a test schema via search_path.
-- `if not exists` keeps it safe to apply on a database that `supabase db push` already migrated.

create table if not exists conversations (
  id              uuid primary key,
  call_sid        text,
  stream_sid      text,
  from_number     text,
  to_number       text,
  channel         text not null,
  claim_id        text not null,
  claim_date      date,
  claim_amount    numeric(12, 2),
  claim_status    text not null default 'Open',
  state           text not null default 'initial',
  machine_version text not null,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  ended_at        timestamptz,
  end_reason      text,
  constraint conversations_call_sid_key unique (call_sid),
  constraint conversations_claim_id_key unique (claim_id),
  constraint conversations_channel_check check (channel in ('phone', 'browser', 'terminal')),
  constraint conversations_claim_status_check check (claim_status in ('Open', 'Pending')),
  constraint conversations_state_check check (state in ('initial', 'ongoing', 'done'))
);

-- Dashboard listing: newest first, optionally filtered by state.
create index if not exists conversations_created_at_idx on conversations (created_at desc);
create index if not exists conversations_state_created_at_idx on conversations (state, created_at desc);

create table if not exists conversation_metrics (
  conversation_id        uuid primary key references conversations (id) on delete cascade,
  turns                  integer not null default 0,
  interruptions          integer not null default 0,
  latency_avg_ms         double precision,
  latency_min_ms         double precision,
  latency_max_ms         double precision,
  heard_latency_avg_ms   double precision,
  heard_latency_min_ms   double precision,
  heard_latency_max_ms   double precision,
  stt_provider           text,
  stt_ttfb_avg_ms        double precision,
  stt_ttfb_min_ms        double precision,
  stt_ttfb_max_ms        double precision,
  stt_processing_avg_ms  double precision,
  stt_processing_min_ms  double precision,
  stt_processing_max_ms  double precision,
  llm_provider           text,
  llm_ttfb_avg_ms        double precision,
  llm_ttfb_min_ms        double precision,
  llm_ttfb_max_ms        double precision,
  llm_processing_avg_ms  double precision,
  llm_processing_min_ms  double precision,
  llm_processing_max_ms  double precision,
  llm_prompt_tokens      integer not null default 0,
  llm_completion_tokens  integer not null default 0,
  tts_provider           text,
  tts_ttfb_avg_ms        double precision,
  tts_ttfb_min_ms        double precision,
  tts_ttfb_max_ms        double precision,
  tts_processing_avg_ms  double precision,
  tts_processing_min_ms  double precision,
  tts_processing_max_ms  double precision,
  updated_at             timestamptz not null default now()
);

-- The transcript. (conversation_id, seq) is the upsert key: an interrupted bot turn gets its
-- heard_text later.
create table if not exists conversation_messages (
  conversation_id uuid not null references conversations (id) on delete cascade,
  seq             integer not null,
  role            text not null,
  text            text not null,
  heard_text      text,
  interrupted     boolean not null default false,
  turn            integer not null default 0,
  created_at      timestamptz not null default now(),
  constraint conversation_messages_pkey primary key (conversation_id, seq),
  constraint conversation_messages_role_check check (role in ('user', 'assistant', 'tool', 'system'))
);

-- The replay log: one row per machine transition. (conversation_id, actor, seq) makes retries safe.
create table if not exists conversation_transitions (
  conversation_id uuid not null references conversations (id) on delete cascade,
  actor           text not null,
  seq             integer not null,
  event_type      text not null,
  event           jsonb not null default '{}'::jsonb,
  state_value     jsonb,
  created_at      timestamptz not null default now(),
  constraint conversation_transitions_pkey primary key (conversation_id, actor, seq),
  constraint conversation_transitions_actor_check check (actor in ('call', 'claim'))
);

-- Reading one conversation's log in replay order.
create index if not exists conversation_transitions_replay_idx
  on conversation_transitions (conversation_id, created_at, actor, seq);

-- RLS on, no policy: `anon`/`authenticated` see nothing; the server uses the service role.
alter table conversations enable row level security;
alter table conversation_metrics enable row level security;
alter table conversation_messages enable row level security;
alter table conversation_transitions enable row level security;
