-- Models, their prediction uploads, and the review items those predictions create.

create table models (
    id              bigint generated always as identity primary key,
    slug            text not null unique check (slug ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
    display_name    text not null check (length(display_name) between 1 and 200),
    kind            text not null check (kind in ('model', 'model-extra-data', 'human', 'ensemble')),
    description     text not null default '' check (length(description) <= 20000),
    paper_url       text check (length(paper_url) <= 2000),
    code_url        text check (length(code_url) <= 2000),
    parameter_count bigint check (parameter_count >= 0),
    training_data   text not null default '' check (length(training_data) <= 200),
    tags            text[] not null default '{}',
    owner_id        bigint not null references users (id),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index models_kind on models (kind);
create index models_tags on models using gin (tags);

-- Every upload, applied or not: who, when, what (the checksum of the canonical content).
create table prediction_uploads (
    id          bigint generated always as identity primary key,
    model_id    bigint not null references models (id) on delete cascade,
    dataset_id  bigint not null references datasets (id) on delete cascade,
    uploaded_by bigint not null references users (id),
    created_at  timestamptz not null default now(),
    format      text not null check (format in ('json', 'csv', 'ndjson')),
    rows        integer not null check (rows >= 0),
    k           smallint not null check (k between 1 and 5),
    partial     boolean not null,
    checksum    text not null check (checksum ~ '^[0-9a-f]{64}$'),
    outcome     text not null check (outcome in ('applied', 'unchanged')),
    elapsed_ms  double precision not null
);
create index prediction_uploads_model on prediction_uploads (model_id, dataset_id, id desc);

-- The current predictions of a model on a dataset: one upload's rows. Replacing them is one pointer update.
create table prediction_sets (
    model_id   bigint not null references models (id) on delete cascade,
    dataset_id bigint not null references datasets (id) on delete cascade,
    upload_id  bigint not null unique references prediction_uploads (id),
    k          smallint not null check (k between 1 and 5),
    rows       integer not null,
    checksum   text not null,
    updated_at timestamptz not null default now(),
    primary key (model_id, dataset_id)
);

-- Ranked labels as class indices of the dataset's label space (labels[1] is the top-1 prediction).
create table predictions (
    upload_id bigint not null references prediction_uploads (id) on delete cascade,
    image_id  bigint not null references images (id) on delete cascade,
    labels    smallint[] not null check (cardinality(labels) between 1 and 5),
    scores    real[] check (scores is null or cardinality(scores) = cardinality(labels)),
    primary key (upload_id, image_id)
);

-- What reviewers decide: an (image, label) pair, for the original label and every model's top-1 prediction.
-- state and version are derived from the verdict events (see the review feature) and kept here for speed.
create table review_items (
    id         bigint generated always as identity primary key,
    image_id   bigint not null references images (id) on delete cascade,
    wnid       text not null references synsets (wnid),
    state      text not null default 'pending' check (state in ('pending', 'correct', 'wrong', 'unclear', 'conflict')),
    version    integer not null default 0,
    created_at timestamptz not null default now(),
    unique (image_id, wnid)
);
create index review_items_pending on review_items (image_id) where state in ('pending', 'conflict');
