-- Live calls across instances: one heartbeat row per running server instance, holding the calls it
-- serves right now (JSON array; state, claim step, latest latency, masked caller; never audio or
-- transcripts). Each instance upserts its own row on every state change (coalesced) and every
-- heartbeat; a row whose heartbeat is older than three intervals is a dead instance, left out of
-- the view with its calls. heartbeat_at is always the database's clock (set by the trigger below).
create table if not exists live_instances (
  instance_id  text primary key,
  started_at   timestamptz not null,
  heartbeat_at timestamptz not null default now(),
  draining     boolean not null default false,
  stream_url   text,
  calls        jsonb not null default '[]'::jsonb
);

create index if not exists live_instances_heartbeat_idx on live_instances (heartbeat_at);

-- RLS on, no policy, like every statecall table: only the service role reads or writes it.
alter table live_instances enable row level security;

create or replace function live_instances_touch() returns trigger language plpgsql as $$
begin
  new.heartbeat_at := now();
  return new;
end
$$;

drop trigger if exists live_instances_touch on live_instances;
create trigger live_instances_touch before insert or update on live_instances
  for each row execute function live_instances_touch();

-- Tell every listening instance (LISTEN statecall_live_calls) when an instance's calls or drain
-- state changed, whoever wrote it (node-postgres or PostgREST). A bare heartbeat says nothing.
create or replace function live_instances_notify() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    perform pg_notify('statecall_live_calls', old.instance_id);
  elsif tg_op = 'INSERT' or new.calls is distinct from old.calls or new.draining is distinct from old.draining then
    perform pg_notify('statecall_live_calls', new.instance_id);
  end if;
  return null;
end
$$;

drop trigger if exists live_instances_notify on live_instances;
create trigger live_instances_notify after insert or update or delete on live_instances
  for each row execute function live_instances_notify();

-- On Supabase, Realtime streams this table's changes to the instances subscribed to it.
do $$
begin
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime')
     and not exists (
       select 1 from pg_publication_tables
       where pubname = 'supabase_realtime' and tablename = 'live_instances'
     ) then
    execute 'alter publication supabase_realtime add table live_instances';
  end if;
end
$$;
