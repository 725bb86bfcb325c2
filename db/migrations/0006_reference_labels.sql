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
