-- Claim numbers reserved ahead of calls, so a call can read its number out in the greeting without
-- waiting for its conversation insert. A number is handed out only if it is neither reserved here
-- nor used by a conversation. Rows stay after use (small, and they keep the number taken).
create table if not exists claim_number_reservations (
  claim_id    text primary key,
  instance_id text,
  reserved_at timestamptz not null default now()
);

-- RLS on, no policy, like every statecall table: only the service role reads or writes it.
alter table claim_number_reservations enable row level security;
