-- The leaderboard's default dataset: the one an admin features, else the one with the most entries. At most one
-- dataset is featured at a time.
alter table datasets add column featured boolean not null default false;
create unique index datasets_one_featured on datasets (featured) where featured;
