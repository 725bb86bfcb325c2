-- The review queue: per image, how many of its items are open, kept by triggers so that whoever creates or
-- decides items (prediction uploads, verdicts, adjudication, a consensus change) keeps it right.

create table review_queue (
    image_id      bigint primary key references images (id) on delete cascade,
    dataset_id    bigint not null references datasets (id) on delete cascade,
    original_wnid text not null,
    items         integer not null default 0,
    pending       integer not null default 0,
    conflicts     integer not null default 0
);
-- "next" walks these in priority order: most pending items first.
create index review_queue_pending on review_queue (dataset_id, pending desc, image_id) where pending > 0;
create index review_queue_conflicts on review_queue (dataset_id, conflicts desc, image_id) where conflicts > 0;

-- Images a reviewer has submitted and needs not see again; cleared when the image gets a new item or a conflict.
create table review_done (
    reviewer_id  bigint not null references users (id) on delete cascade,
    image_id     bigint not null references images (id) on delete cascade,
    submitted_at timestamptz not null default now(),
    primary key (reviewer_id, image_id)
);
create index review_done_image on review_done (image_id);
create index review_leases_reviewer on review_leases (reviewer_id);
create index image_states_problematic on image_states (image_id) where problematic;
-- The rule a label version was derived with (a consensus change makes a version without new events).
alter table label_versions add column consensus_rule text;

create index verdict_events_created on verdict_events (created_at) where reviewer_id is not null;

create function review_queue_items_inserted() returns trigger language plpgsql as $$
begin
    insert into review_queue (image_id, dataset_id, original_wnid, items, pending, conflicts)
    select n.image_id, i.dataset_id, i.original_wnid, count(*),
           count(*) filter (where n.state = 'pending'), count(*) filter (where n.state = 'conflict')
    from inserted n join images i on i.id = n.image_id
    group by n.image_id, i.dataset_id, i.original_wnid
    on conflict (image_id) do update
    set items = review_queue.items + excluded.items,
        pending = review_queue.pending + excluded.pending,
        conflicts = review_queue.conflicts + excluded.conflicts;
    -- A new candidate label: whoever finished the image has not judged it yet.
    delete from review_done d using (select distinct image_id from inserted) n where d.image_id = n.image_id;
    return null;
end $$;

create function review_queue_items_updated() returns trigger language plpgsql as $$
begin
    update review_queue q
    set pending = q.pending + c.pending, conflicts = q.conflicts + c.conflicts
    from (
        select image_id, sum(pending)::int as pending, sum(conflicts)::int as conflicts
        from (
            select image_id, (state = 'pending')::int as pending, (state = 'conflict')::int as conflicts from updated_new
            union all
            select image_id, -(state = 'pending')::int, -(state = 'conflict')::int from updated_old
        ) d
        group by image_id
    ) c
    where q.image_id = c.image_id and (c.pending <> 0 or c.conflicts <> 0);
    -- A new conflict asks every reviewer of the image to look again.
    delete from review_done d
    using updated_new n join updated_old o on o.id = n.id
    where d.image_id = n.image_id and n.state = 'conflict' and o.state <> 'conflict';
    return null;
end $$;

create function review_queue_items_deleted() returns trigger language plpgsql as $$
begin
    update review_queue q
    set items = q.items - c.items, pending = q.pending - c.pending, conflicts = q.conflicts - c.conflicts
    from (
        select image_id, count(*)::int as items, count(*) filter (where state = 'pending')::int as pending,
               count(*) filter (where state = 'conflict')::int as conflicts
        from deleted group by image_id
    ) c
    where q.image_id = c.image_id;
    return null;
end $$;

create trigger review_items_queue_insert after insert on review_items
    referencing new table as inserted for each statement execute function review_queue_items_inserted();
create trigger review_items_queue_update after update on review_items
    referencing old table as updated_old new table as updated_new for each statement execute function review_queue_items_updated();
create trigger review_items_queue_delete after delete on review_items
    referencing old table as deleted for each statement execute function review_queue_items_deleted();

-- Items that exist already (none on a fresh install) enter the queue.
insert into review_queue (image_id, dataset_id, original_wnid, items, pending, conflicts)
select r.image_id, i.dataset_id, i.original_wnid, count(*),
       count(*) filter (where r.state = 'pending'), count(*) filter (where r.state = 'conflict')
from review_items r join images i on i.id = r.image_id
group by r.image_id, i.dataset_id, i.original_wnid;
