-- Revocable sign-in sessions: a cookie names the user's security stamp, and the stamp changes whenever the password or
-- the roles change or the user is disabled, which ends every session signed in before (the API checks the stamp on
-- each request; the users trigger of migration 0014 tells every API process at once).
alter table users add column security_stamp uuid not null default gen_random_uuid();
alter table users add column disabled_at timestamptz;

-- A job belongs to the API process that runs it, which marks it alive every few seconds: a process starting up fails
-- only the jobs whose runner stopped marking them, never another live process's.
alter table jobs add column runner uuid;
alter table jobs add column heartbeat_at timestamptz;
create index jobs_unfinished on jobs (heartbeat_at) where status in ('queued', 'running');

-- A server's own secret for pseudonyms (reviewers' names shown to anonymous readers): random, made once, never shown.
create table server_secrets (
    name  text primary key,
    value bytea not null check (length(value) >= 32)
);
insert into server_secrets (name, value)
values ('pseudonyms', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
