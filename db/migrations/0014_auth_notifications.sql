-- API processes remember who each token belongs to (TokenCache); any change to users or tokens tells them to forget.
-- Statement-level, so a bulk change is one notification; PostgreSQL delivers it when the change commits.
create function notify_auth_changed() returns trigger language plpgsql as $$
begin
    perform pg_notify('relabel_auth', '');
    return null;
end $$;

create trigger api_tokens_changed after update or delete or truncate on api_tokens
    for each statement execute function notify_auth_changed();
create trigger users_changed after update or delete or truncate on users
    for each statement execute function notify_auth_changed();
