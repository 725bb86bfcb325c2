-- Two things the live leaderboard reads instead of scanning: a per-dataset board epoch that moves with everything a
-- board depends on, and, per label version written by reviewers' events, the events it stamped.

-- The board epoch: a conditional GET or a cached board reads one row per dataset instead of aggregating over every
-- prediction set (about 12 ms at 1,556 models). No foreign key, as dataset_image_epochs: the rows of a dataset being
-- deleted may be bumped after it is gone; dataset ids are never reused.
create table board_epochs (
    dataset_id bigint primary key,
    epoch      bigint not null default 0
);
insert into board_epochs (dataset_id, epoch) select id, 1 from datasets;

create function bump_board_epoch(dataset bigint) returns void language sql as $$
    insert into board_epochs (dataset_id, epoch) values (dataset, 1)
    on conflict (dataset_id) do update set epoch = board_epochs.epoch + 1;
$$;

-- Rows of tables keyed by dataset_id (prediction sets, subsets, image sets, reference labels, image epochs).
create function board_epoch_of_row() returns trigger language plpgsql as $$
begin
    if tg_op <> 'INSERT' then perform bump_board_epoch(old.dataset_id); end if;
    if tg_op <> 'DELETE' and (tg_op = 'INSERT' or new.dataset_id <> old.dataset_id) then perform bump_board_epoch(new.dataset_id); end if;
    return null;
end $$;

-- A model's metadata shows on the board of every dataset it has predictions on (in id order: no deadlock between two).
create function board_epoch_of_model() returns trigger language plpgsql as $$
begin
    perform bump_board_epoch(ps.dataset_id) from prediction_sets ps where ps.model_id = new.id order by ps.dataset_id;
    return null;
end $$;

-- Deferred to the commit, so that a long upload or import holds the epoch row only while it commits (review commits
-- bump the same row).
create constraint trigger prediction_sets_board_epoch after insert or update or delete on prediction_sets
    deferrable initially deferred for each row execute function board_epoch_of_row();
create constraint trigger subsets_board_epoch after insert or update or delete on subsets
    deferrable initially deferred for each row execute function board_epoch_of_row();
create constraint trigger image_sets_board_epoch after insert or update or delete on image_sets
    deferrable initially deferred for each row execute function board_epoch_of_row();
create constraint trigger reference_label_sets_board_epoch after insert or update or delete on reference_label_sets
    deferrable initially deferred for each row execute function board_epoch_of_row();
create constraint trigger dataset_image_epochs_board_epoch after insert or update or delete on dataset_image_epochs
    deferrable initially deferred for each row execute function board_epoch_of_row();
create constraint trigger models_board_epoch after update on models
    deferrable initially deferred for each row execute function board_epoch_of_model();

-- The dataset's own row (its label version, bumped at commit by migration 0009, rule, settings, partner) is not counted
-- here: the fingerprint reads the row's xmin, which any update changes. A verdict's commit so locks the dataset row and
-- never the epoch row, and an upload's commit the epoch row before the dataset row: no two orders, no deadlock.

-- The label versions made of reviewers' events only (migration 0009's commit trigger): the events each stamped. A
-- reader holding the label state at version v reads the items of the events of v+1..w and nothing else; a version
-- without a row here (a rule change's re-derivation, a bulk import) makes it read the whole state again.
create table label_version_changes (
    dataset_id     bigint not null references datasets (id) on delete cascade,
    version        bigint not null,
    event_ids      bigint[] not null,
    flag_event_ids bigint[] not null,
    primary key (dataset_id, version)
);

create or replace function assign_label_version() returns trigger language plpgsql as $$
declare
    next_version bigint;
begin
    update datasets set label_version = label_version + 1 where id = new.dataset_id returning label_version into next_version;
    insert into label_versions (dataset_id, version, changed_items, changed_flags, consensus_rule)
    select new.dataset_id, next_version, new.changed_items, new.changed_flags, consensus_rule from datasets where id = new.dataset_id;
    update verdict_events set label_version = next_version where id = any (new.event_ids);
    update image_flag_events set label_version = next_version where id = any (new.flag_event_ids);
    insert into label_version_changes (dataset_id, version, event_ids, flag_event_ids)
    values (new.dataset_id, next_version, new.event_ids, new.flag_event_ids);
    delete from label_version_requests where id = new.id;
    return null;
end $$;
