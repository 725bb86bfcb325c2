-- A reviewer's skip of an image, with why: the image leaves their queue for the session (the client keeps the list),
-- and the record tells admins which images need an expert or do not load.
create table review_skips (
    id          bigint generated always as identity primary key,
    reviewer_id bigint not null references users (id) on delete cascade,
    image_id    bigint not null references images (id) on delete cascade,
    reason      text not null check (reason in ('needs-expert', 'image-wont-load', 'unsure')),
    note        text not null default '' check (length(note) <= 1000),
    created_at  timestamptz not null default now()
);
create index review_skips_image on review_skips (image_id);
