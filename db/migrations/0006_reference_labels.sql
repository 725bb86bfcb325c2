-- Reference multi-labels imported from outside (the ReaL format of Beyer et al. 2020): for each image, the class
-- indices judged correct; an empty list leaves the image out of ReaL accuracy. One set per dataset, replaced whole.

create table reference_label_sets (
    dataset_id  bigint primary key references datasets (id) on delete cascade,
    -- A new id on every import, so cached scores know the set changed.
    id          bigint generated always as identity unique,
    imported_by bigint not null references users (id),
    imported_at timestamptz not null default now(),
    images      integer not null check (images >= 0),
    excluded    integer not null check (excluded >= 0)
);

create table dataset_reference_labels (
    dataset_id    bigint not null references reference_label_sets (dataset_id) on delete cascade,
    image_id      bigint not null references images (id) on delete cascade,
    class_indices smallint[] not null check (cardinality(class_indices) <= 1000),
    primary key (dataset_id, image_id)
);

-- A counter per dataset that moves whenever its images change (added, relabelled, removed), so the leaderboard can
-- tell in O(1) whether the images it holds in memory are current. Kept by statement-level triggers; no foreign key,
-- since the images of a dataset being deleted are removed after it.
create table dataset_image_epochs (
    dataset_id bigint primary key,
    epoch      bigint not null default 0
);

create function bump_dataset_image_epochs() returns trigger language plpgsql as $$
begin
    insert into dataset_image_epochs (dataset_id, epoch)
    select distinct dataset_id, 1 from changed_images
    on conflict (dataset_id) do update set epoch = dataset_image_epochs.epoch + 1;
    return null;
end
$$;

create trigger images_inserted after insert on images referencing new table as changed_images
    for each statement execute function bump_dataset_image_epochs();
create trigger images_updated after update on images referencing new table as changed_images
    for each statement execute function bump_dataset_image_epochs();
create trigger images_deleted after delete on images referencing old table as changed_images
    for each statement execute function bump_dataset_image_epochs();
