-- Foundation: WordNet synsets, label spaces, datasets, subsets, images, accounts.
create extension if not exists pg_trgm;

-- WordNet 3.0 noun synsets. wnid = 'n' || 8-digit offset; hypernyms include instance hypernyms.
create table synsets (
    wnid       text primary key check (wnid ~ '^n[0-9]{8}$'),
    lemmas     text[] not null,
    gloss      text not null,
    hypernyms  text[] not null default '{}'
);

-- One row per lemma, so that search can use a prefix (btree) and a substring (trigram) index.
create table synset_lemmas (
    wnid        text not null references synsets (wnid),
    position    smallint not null,
    lemma       text not null,
    lemma_lower text not null,
    primary key (wnid, position)
);
create index synset_lemmas_prefix on synset_lemmas (lemma_lower text_pattern_ops);
create index synset_lemmas_trgm on synset_lemmas using gin (lemma_lower gin_trgm_ops);

create table label_spaces (
    id         bigint generated always as identity primary key,
    created_at timestamptz not null default now()
);

create table label_space_classes (
    label_space_id bigint not null references label_spaces (id) on delete cascade,
    class_index    integer not null check (class_index >= 0),
    wnid           text not null references synsets (wnid),
    primary key (label_space_id, class_index),
    unique (label_space_id, wnid)
);

-- Ancestor-or-self closure of every class of a label space, for subsets defined by WordNet roots.
create table label_space_ancestors (
    label_space_id bigint not null references label_spaces (id) on delete cascade,
    wnid           text not null,
    ancestor       text not null,
    primary key (label_space_id, ancestor, wnid)
);

create table datasets (
    id             bigint generated always as identity primary key,
    slug           text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name           text not null,
    description    text not null default '',
    label_space_id bigint not null references label_spaces (id),
    shift_of       bigint references datasets (id),
    consensus_rule text not null default 'latest' check (consensus_rule ~ '^(latest|agreement:[1-9][0-9]?)$'),
    images_public  boolean not null default false,
    created_at     timestamptz not null default now()
);

-- A subset of a label space: classes under include_root (if set), not under exclude_root (if set),
-- and in wnids (if set). The built-in subsets are rows like any other.
create table subsets (
    id           bigint generated always as identity primary key,
    dataset_id   bigint not null references datasets (id) on delete cascade,
    name         text not null check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    description  text not null default '',
    include_root text references synsets (wnid),
    exclude_root text references synsets (wnid),
    wnids        text[],
    built_in     boolean not null default false,
    unique (dataset_id, name)
);

create table images (
    id            bigint generated always as identity primary key,
    dataset_id    bigint not null references datasets (id) on delete cascade,
    file_name     text not null check (length(file_name) between 1 and 255),
    original_wnid text not null references synsets (wnid),
    sha256        text check (sha256 ~ '^[0-9a-f]{64}$'),
    byte_size     bigint,
    width         integer,
    height        integer,
    media_type    text,
    created_at    timestamptz not null default now(),
    unique (dataset_id, file_name),
    check ((sha256 is null) = (media_type is null))
);
create index images_dataset_wnid on images (dataset_id, original_wnid, id);

create table users (
    id            bigint generated always as identity primary key,
    name          text not null unique check (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    display_name  text not null default '',
    password_hash text,
    roles         text[] not null default '{}' check (roles <@ array['admin', 'reviewer', 'uploader']),
    created_at    timestamptz not null default now()
);

create table api_tokens (
    id          bigint generated always as identity primary key,
    user_id     bigint not null references users (id) on delete cascade,
    name        text not null default '',
    token_hash  bytea not null unique,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);

create index synsets_hypernyms on synsets using gin (hypernyms);

-- The classes (wnids) of a subset, by its definition over the label space's ancestor closure.
create function subset_wnids(p_subset_id bigint) returns table (wnid text)
language sql stable as $$
    select c.wnid
    from subsets s
    join datasets d on d.id = s.dataset_id
    join label_space_classes c on c.label_space_id = d.label_space_id
    where s.id = p_subset_id
      and (s.include_root is null or exists (
            select 1 from label_space_ancestors a
            where a.label_space_id = c.label_space_id and a.wnid = c.wnid and a.ancestor = s.include_root))
      and (s.exclude_root is null or not exists (
            select 1 from label_space_ancestors a
            where a.label_space_id = c.label_space_id and a.wnid = c.wnid and a.ancestor = s.exclude_root))
      and (s.wnids is null or c.wnid = any (s.wnids))
$$;
