-- Review: append-only verdict and flag events, the states derived from them, leases, guide notes,
-- and label-set versions.

-- Every change of a dataset's decided labels (an item's state or an image's problematic flag) is a new
-- version; events carry the version they created, so the labels at version N are those of events <= N.
alter table datasets add column label_version bigint not null default 0;

create table label_versions (
    dataset_id    bigint not null references datasets (id) on delete cascade,
    version       bigint not null check (version > 0),
    created_at    timestamptz not null default now(),
    changed_items integer not null default 0,
    changed_flags integer not null default 0,
    primary key (dataset_id, version)
);

-- Who a verdict comes from: a signed-in reviewer, or an external source (an imported release, a crowd rater).
create table verdict_sources (
    id          bigint generated always as identity primary key,
    name        text not null unique check (length(name) between 1 and 200),
    kind        text not null check (kind in ('import', 'rater', 'expert')),
    description text not null default '',
    created_at  timestamptz not null default now()
);

create table verdict_events (
    id            bigint generated always as identity primary key,
    item_id       bigint not null references review_items (id) on delete cascade,
    reviewer_id   bigint references users (id),
    source_id     bigint references verdict_sources (id),
    -- 'unreviewed' withdraws the author's earlier verdict (undo is a new event, nothing is overwritten).
    verdict       text not null check (verdict in ('correct', 'wrong', 'unclear', 'dont-know', 'unreviewed')),
    -- An admin's adjudication is the final word on an item, whatever the consensus rule.
    adjudication  boolean not null default false,
    note          text not null default '' check (length(note) <= 5000),
    seconds_spent real check (seconds_spent >= 0),
    label_version bigint not null default 0,
    created_at    timestamptz not null default now(),
    check ((reviewer_id is null) <> (source_id is null))
);
create index verdict_events_item on verdict_events (item_id, id);
create index verdict_events_reviewer on verdict_events (reviewer_id, created_at) where reviewer_id is not null;

create table image_flag_events (
    id            bigint generated always as identity primary key,
    image_id      bigint not null references images (id) on delete cascade,
    reviewer_id   bigint references users (id),
    source_id     bigint references verdict_sources (id),
    problematic   boolean not null,
    reason        text check (reason in ('wrong-original-label', 'unclear-original-label', 'drawing-or-render',
                                         'excessively-edited', 'inappropriate', 'other')),
    note          text not null default '' check (length(note) <= 5000),
    label_version bigint not null default 0,
    created_at    timestamptz not null default now(),
    check ((reviewer_id is null) <> (source_id is null)),
    check (not problematic or reason is not null),
    check (reason is distinct from 'other' or length(note) > 0)
);
create index image_flag_events_image on image_flag_events (image_id, id);

-- The derived problematic state of an image (latest flag event), and a version for stale-write detection.
create table image_states (
    image_id    bigint primary key references images (id) on delete cascade,
    problematic boolean not null default false,
    reason      text,
    version     integer not null default 0
);

-- Two reviewers working at once get different images.
create table review_leases (
    image_id    bigint primary key references images (id) on delete cascade,
    reviewer_id bigint not null references users (id) on delete cascade,
    expires_at  timestamptz not null
);

-- The labeling guide: a note per class, or per confusable pair ("X vs Y", stored with wnid < other_wnid).
create table guide_notes (
    id          bigint generated always as identity primary key,
    wnid        text not null references synsets (wnid),
    other_wnid  text references synsets (wnid),
    body        text not null check (length(body) between 1 and 20000),
    updated_by  bigint not null references users (id),
    updated_at  timestamptz not null default now(),
    check (other_wnid is null or wnid < other_wnid)
);
create unique index guide_notes_pair on guide_notes (wnid, coalesce(other_wnid, ''));
