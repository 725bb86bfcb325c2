-- Work that follows a prediction upload, done right after it commits so the upload answers as soon as its rows
-- are in: the review items of its top-1 labels, and the deletion of the rows of the upload it replaced.
-- A row is written in the upload's transaction, so a crash between the two loses nothing: the next start does it.
create table prediction_followups (
    upload_id          bigint primary key references prediction_uploads (id) on delete cascade,
    replaced_upload_id bigint,
    created_at         timestamptz not null default now()
);
