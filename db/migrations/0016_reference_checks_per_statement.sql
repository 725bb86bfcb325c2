-- The bulk tables check their references once per statement instead of once per row. A foreign key checks each
-- inserted row by its own lookup, which cost more than the copy itself on the bulk paths (a 50,000-row prediction
-- upload, a million imported votes); skipping them needed a superuser (session_replication_role), and the API runs as
-- an ordinary role. These triggers do what the foreign keys did, for all rows of a statement at once: every reference
-- must exist, and stay until the transaction ends (a foreign key check locks the row it finds FOR KEY SHARE, so that a
-- concurrent delete waits or fails; these do the same, or lock what every such delete must update, see below);
-- deleting a referenced row cascades or is refused as before.
-- The errors keep the SQLSTATE (23503) and the constraint names of the foreign keys they replace. As before, a deleted
-- image's predictions and a deleted source's events are found by scanning (no index on those columns: deleting images
-- or sources is rare, and an index would cost every upload and import), now once per statement, not once per row.

-- predictions: upload_id -> prediction_uploads (on delete cascade), image_id -> images (on delete cascade).
alter table predictions drop constraint predictions_upload_id_fkey, drop constraint predictions_image_id_fkey;

-- An image is not locked row by row (a lock per row is a write per row, most of an upload's check): the rows' datasets'
-- image epochs are locked instead, FOR SHARE. Every delete or change of a dataset's images updates that row (the
-- images_changed trigger, migration 0013), so it waits for this transaction, and a change that committed before is seen by
-- the count that follows the lock. The rows must name images of their upload's dataset (stricter than the foreign key).
create function predictions_check_references() returns trigger language plpgsql as $$
declare
    expected bigint;
    found bigint;
begin
    select count(distinct upload_id) into expected from new_rows;
    select count(*) into found from (
        select from prediction_uploads u where u.id in (select upload_id from new_rows) for key share of u) locked;
    if found < expected then
        raise exception 'insert or update on table "predictions" violates foreign key constraint "predictions_upload_id_fkey"'
            using errcode = 'foreign_key_violation', constraint = 'predictions_upload_id_fkey', table = 'predictions',
                  detail = format('%s of the upload ids are not in table "prediction_uploads".', expected - found);
    end if;
    perform from dataset_image_epochs e
    where e.dataset_id in (select u.dataset_id from prediction_uploads u where u.id in (select upload_id from new_rows))
    for share of e;
    select count(*) into found
    from new_rows n
    join prediction_uploads u on u.id = n.upload_id
    left join images i on i.id = n.image_id and i.dataset_id = u.dataset_id
    where i.id is null;
    if found > 0 then
        raise exception 'insert or update on table "predictions" violates foreign key constraint "predictions_image_id_fkey"'
            using errcode = 'foreign_key_violation', constraint = 'predictions_image_id_fkey', table = 'predictions',
                  detail = format('%s of the rows name no image of their upload''s dataset.', found);
    end if;
    return null;
end $$;

create trigger predictions_references_inserted after insert on predictions
    referencing new table as new_rows for each statement execute function predictions_check_references();
create trigger predictions_references_updated after update on predictions
    referencing new table as new_rows for each statement execute function predictions_check_references();

create function images_delete_predictions() returns trigger language plpgsql as $$
begin
    delete from predictions p using old_rows o where p.image_id = o.id;
    return null;
end $$;
create trigger images_deleted_predictions after delete on images
    referencing old table as old_rows for each statement execute function images_delete_predictions();

create function prediction_uploads_delete_predictions() returns trigger language plpgsql as $$
begin
    delete from predictions p using old_rows o where p.upload_id = o.id;
    return null;
end $$;
create trigger prediction_uploads_deleted_predictions after delete on prediction_uploads
    referencing old table as old_rows for each statement execute function prediction_uploads_delete_predictions();

-- verdict_events: item_id -> review_items (on delete cascade), reviewer_id -> users, source_id -> verdict_sources
-- (both: no action, a referenced row cannot be deleted).
alter table verdict_events drop constraint verdict_events_item_id_fkey, drop constraint verdict_events_reviewer_id_fkey,
    drop constraint verdict_events_source_id_fkey;

create function verdict_events_check_references() returns trigger language plpgsql as $$
declare
    expected bigint;
    found bigint;
begin
    select count(distinct item_id) into expected from new_rows;
    select count(*) into found from (
        select from review_items r where r.id in (select item_id from new_rows) for key share of r) locked;
    if found < expected then
        raise exception 'insert or update on table "verdict_events" violates foreign key constraint "verdict_events_item_id_fkey"'
            using errcode = 'foreign_key_violation', constraint = 'verdict_events_item_id_fkey', table = 'verdict_events',
                  detail = format('%s of the item ids are not in table "review_items".', expected - found);
    end if;
    select count(distinct reviewer_id) into expected from new_rows;
    if expected > 0 then
        select count(*) into found from (
            select from users u where u.id in (select reviewer_id from new_rows) for key share of u) locked;
        if found < expected then
            raise exception 'insert or update on table "verdict_events" violates foreign key constraint "verdict_events_reviewer_id_fkey"'
                using errcode = 'foreign_key_violation', constraint = 'verdict_events_reviewer_id_fkey', table = 'verdict_events',
                      detail = format('%s of the reviewer ids are not in table "users".', expected - found);
        end if;
    end if;
    select count(distinct source_id) into expected from new_rows;
    if expected > 0 then
        select count(*) into found from (
            select from verdict_sources s where s.id in (select source_id from new_rows) for key share of s) locked;
        if found < expected then
            raise exception 'insert or update on table "verdict_events" violates foreign key constraint "verdict_events_source_id_fkey"'
                using errcode = 'foreign_key_violation', constraint = 'verdict_events_source_id_fkey', table = 'verdict_events',
                      detail = format('%s of the source ids are not in table "verdict_sources".', expected - found);
        end if;
    end if;
    return null;
end $$;

create trigger verdict_events_references_inserted after insert on verdict_events
    referencing new table as new_rows for each statement execute function verdict_events_check_references();
create trigger verdict_events_references_updated after update on verdict_events
    referencing new table as new_rows for each statement execute function verdict_events_check_references();

create function review_items_delete_verdict_events() returns trigger language plpgsql as $$
begin
    delete from verdict_events e using old_rows o where e.item_id = o.id;
    return null;
end $$;
create trigger review_items_deleted_verdict_events after delete on review_items
    referencing old table as old_rows for each statement execute function review_items_delete_verdict_events();

create function users_keep_verdict_events() returns trigger language plpgsql as $$
begin
    if exists (select 1 from verdict_events e join old_rows o on e.reviewer_id = o.id) then
        raise exception 'update or delete on table "users" violates foreign key constraint "verdict_events_reviewer_id_fkey" on table "verdict_events"'
            using errcode = 'foreign_key_violation', constraint = 'verdict_events_reviewer_id_fkey', table = 'users',
                  detail = 'The user is still referenced from table "verdict_events".';
    end if;
    return null;
end $$;
create trigger users_deleted_verdict_events after delete on users
    referencing old table as old_rows for each statement execute function users_keep_verdict_events();

create function verdict_sources_keep_verdict_events() returns trigger language plpgsql as $$
begin
    if exists (select 1 from verdict_events e join old_rows o on e.source_id = o.id) then
        raise exception 'update or delete on table "verdict_sources" violates foreign key constraint "verdict_events_source_id_fkey" on table "verdict_events"'
            using errcode = 'foreign_key_violation', constraint = 'verdict_events_source_id_fkey', table = 'verdict_sources',
                  detail = 'The source is still referenced from table "verdict_events".';
    end if;
    return null;
end $$;
create trigger verdict_sources_deleted_verdict_events after delete on verdict_sources
    referencing old table as old_rows for each statement execute function verdict_sources_keep_verdict_events();
