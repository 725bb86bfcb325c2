-- Interoperability: background jobs, import records, named image sets, control questions, aggregation results.

create table jobs (
    id          bigint generated always as identity primary key,
    kind        text not null,
    dataset_id  bigint references datasets (id) on delete cascade,
    created_by  bigint not null references users (id),
    status      text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
    done        bigint not null default 0,
    total       bigint not null default 0,
    message     text not null default '',
    result      jsonb,
    created_at  timestamptz not null default now(),
    started_at  timestamptz,
    finished_at timestamptz
);

-- Each applied import, so that importing the same content again is a no-op.
create table imports (
    id          bigint generated always as identity primary key,
    dataset_id  bigint not null references datasets (id) on delete cascade,
    kind        text not null,
    checksum    text not null check (checksum ~ '^[0-9a-f]{64}$'),
    job_id      bigint references jobs (id) on delete set null,
    created_at  timestamptz not null default now(),
    unique (dataset_id, kind, checksum)
);

-- Named sets of images of a dataset (ImageNet-M, say).
create table image_sets (
    id          bigint generated always as identity primary key,
    dataset_id  bigint not null references datasets (id) on delete cascade,
    name        text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    description text not null default '',
    unique (dataset_id, name)
);
create table image_set_members (
    image_set_id bigint not null references image_sets (id) on delete cascade,
    image_id     bigint not null references images (id) on delete cascade,
    primary key (image_set_id, image_id)
);

-- Control (golden) questions: items with an expert answer, to measure each rater.
alter table review_items add column control boolean not null default false;

-- The latest Dawid-Skene aggregation of a dataset: a posterior per item and a confusion matrix per rater.
create table aggregations (
    dataset_id  bigint primary key references datasets (id) on delete cascade,
    method      text not null check (method = 'dawid-skene'),
    threshold   double precision not null check (threshold > 0.5 and threshold < 1),
    iterations  integer not null,
    converged   boolean not null,
    prior       double precision not null,
    votes       bigint not null,
    computed_at timestamptz not null default now()
);
create table aggregated_items (
    dataset_id  bigint not null references datasets (id) on delete cascade,
    item_id     bigint not null references review_items (id) on delete cascade,
    probability double precision not null check (probability between 0 and 1),
    outcome     text not null check (outcome in ('correct', 'wrong', 'unclear')),
    primary key (dataset_id, item_id)
);
create table rater_quality (
    dataset_id            bigint not null references datasets (id) on delete cascade,
    source_id             bigint not null references verdict_sources (id) on delete cascade,
    votes                 integer not null,
    control_votes         integer not null,
    control_accuracy      double precision,
    consensus_agreement   double precision,
    confusion             jsonb not null,
    primary key (dataset_id, source_id)
);
