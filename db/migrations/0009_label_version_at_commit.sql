-- Label versions assigned at commit. A write that changes labels queues a request; a deferred constraint trigger
-- takes the next version of the dataset when the transaction commits and stamps the write's events with it. The
-- dataset row, which orders versions, is then locked only while the commit runs, not across client round trips,
-- so concurrent reviewers no longer queue behind each other's transactions.
create table label_version_requests (
    id             bigint generated always as identity primary key,
    dataset_id     bigint not null references datasets (id) on delete cascade,
    changed_items  integer not null,
    changed_flags  integer not null,
    event_ids      bigint[] not null default '{}',
    flag_event_ids bigint[] not null default '{}'
);

create function assign_label_version() returns trigger language plpgsql as $$
declare
    next_version bigint;
begin
    update datasets set label_version = label_version + 1 where id = new.dataset_id returning label_version into next_version;
    insert into label_versions (dataset_id, version, changed_items, changed_flags, consensus_rule)
    select new.dataset_id, next_version, new.changed_items, new.changed_flags, consensus_rule from datasets where id = new.dataset_id;
    update verdict_events set label_version = next_version where id = any (new.event_ids);
    update image_flag_events set label_version = next_version where id = any (new.flag_event_ids);
    delete from label_version_requests where id = new.id;
    return null;
end $$;

create constraint trigger label_version_at_commit
    after insert on label_version_requests
    deferrable initially deferred
    for each row execute function assign_label_version();
