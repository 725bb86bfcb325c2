-- Predictions packed in blocks: one row per upload and block of 128 consecutive image ids instead of one row per upload
-- and image. A row per image cost about 100 bytes of tuple header, array header and primary-key entry for 10 bytes of
-- class indices (about 5.5 MB per 50,000-image top-5 upload); a block costs that once for 128 images (about 0.55 MB).
-- Image ids are global, but the images of a dataset are added in bulk and so have runs of consecutive ids: the blocks
-- of an upload are dense. An image id without a prediction (another dataset's, a partial upload's gap) costs k slots
-- of -1.
--
-- Layout: slot s of block b is image id b * 128 + s; its labels are labels[s * k + 1 .. s * k + k] (class indices,
-- top-1 first; a row with fewer than k labels is padded with -1; an image without a prediction has -1 in its first
-- slot), its scores the same range of scores (NaN where the row has none: scores are finite, and an array without nulls
-- has no null bitmap, which a slice would keep and a client would read as nulls; scores is null when no row of the
-- block has any). Rows are kept in the heap page (toast_tuple_target at its maximum): a block with scores is about 4 kB, and
-- reading an uncompressed array in place costs nothing per subscript, where a toasted one is fetched again on each use.
-- Readers that want rows use the view predictions (or prediction_at for one image); the scorer and the upload read
-- and write blocks directly. A deleted image's slots stay and drop out on read: the view joins the images.
create table prediction_blocks (
    upload_id bigint not null,
    block     bigint not null check (block >= 0),
    k         smallint not null check (k between 1 and 5),
    labels    smallint[] not null check (array_ndims(labels) = 1 and cardinality(labels) between k and 128 * k
                                         and cardinality(labels) % k = 0),
    scores    real[] check (scores is null or (array_ndims(scores) = 1 and cardinality(scores) = cardinality(labels)
                                           and array_position(scores, null) is null)),
    primary key (upload_id, block)
) with (toast_tuple_target = 8160);
alter table prediction_blocks alter column labels set storage main, alter column scores set storage main;

-- The rows of one block: (image id, labels, scores) for each slot with a prediction.
create function prediction_block_rows(block_no bigint, stride smallint, packed_labels smallint[], packed_scores real[])
returns table (image_id bigint, labels smallint[], scores real[]) language sql immutable parallel safe as $$
    select block_no * 128 + slot,
           array_remove(packed_labels[slot * stride + 1 : slot * stride + stride], -1::smallint),
           case when packed_scores[slot * stride + 1] <> 'NaN'
                then array_remove(packed_scores[slot * stride + 1 : slot * stride + stride], 'NaN') end
    from generate_series(0, cardinality(packed_labels) / stride - 1) slot
    where packed_labels[slot * stride + 1] <> -1
$$;

-- The prediction of one upload for one image (no row when there is none): one block read.
create function prediction_at(upload bigint, image bigint) returns table (labels smallint[], scores real[])
language sql stable parallel safe as $$
    select array_remove(b.labels[s.first + 1 : s.first + b.k], -1::smallint),
           case when b.scores[s.first + 1] <> 'NaN' then array_remove(b.scores[s.first + 1 : s.first + b.k], 'NaN') end
    from prediction_blocks b
    cross join lateral (select (image % 128)::int * b.k as first) s
    where b.upload_id = upload and b.block = image / 128 and b.labels[s.first + 1] <> -1
$$;

-- The same references as before (migration 0016), checked per statement; the unpacked rows must name images of their
-- upload's dataset. The errors keep the foreign keys' names, which the upload maps to its own problem.
create function prediction_blocks_check_references() returns trigger language plpgsql as $$
declare
    expected bigint;
    found bigint;
begin
    select count(distinct upload_id) into expected from new_rows;
    select count(*) into found from (
        select from prediction_uploads u where u.id in (select upload_id from new_rows) for key share of u) locked;
    if found < expected then
        raise exception 'insert or update on table "prediction_blocks" violates foreign key constraint "predictions_upload_id_fkey"'
            using errcode = 'foreign_key_violation', constraint = 'predictions_upload_id_fkey', table = 'prediction_blocks',
                  detail = format('%s of the upload ids are not in table "prediction_uploads".', expected - found);
    end if;
    perform from dataset_image_epochs e
    where e.dataset_id in (select u.dataset_id from prediction_uploads u where u.id in (select upload_id from new_rows))
    for share of e;
    select count(*) into found
    from new_rows n
    join prediction_uploads u on u.id = n.upload_id
    cross join lateral prediction_block_rows(n.block, n.k, n.labels, n.scores) r
    left join images i on i.id = r.image_id and i.dataset_id = u.dataset_id
    where i.id is null;
    if found > 0 then
        raise exception 'insert or update on table "prediction_blocks" violates foreign key constraint "predictions_image_id_fkey"'
            using errcode = 'foreign_key_violation', constraint = 'predictions_image_id_fkey', table = 'prediction_blocks',
                  detail = format('%s of the rows name no image of their upload''s dataset.', found);
    end if;
    return null;
end $$;

create trigger prediction_blocks_references_inserted after insert on prediction_blocks
    referencing new table as new_rows for each statement execute function prediction_blocks_check_references();
create trigger prediction_blocks_references_updated after update on prediction_blocks
    referencing new table as new_rows for each statement execute function prediction_blocks_check_references();

-- The existing rows, packed: every (upload, block) with its k (the longest row's length) and its last used slot, then
-- every slot position of it, filled from the rows' elements or padded.
create temporary table old_blocks on commit drop as
select upload_id, image_id / 128 as block, max(cardinality(labels))::smallint as k, max(image_id % 128)::int as last_slot,
       bool_or(scores is not null) as scored
from predictions
group by upload_id, image_id / 128;

insert into prediction_blocks (upload_id, block, k, labels, scores)
select b.upload_id, b.block, b.k,
       array_agg(coalesce(e.label, -1::smallint) order by position.n),
       case when b.scored then array_agg(coalesce(e.score, 'NaN') order by position.n) end
from old_blocks b
cross join generate_series(0, (b.last_slot + 1) * b.k - 1) position (n)
left join (
    select p.upload_id, p.image_id / 128 as block, (p.image_id % 128) * o.k + element.j - 1 as n, element.label, element.score
    from predictions p
    join old_blocks o on o.upload_id = p.upload_id and o.block = p.image_id / 128
    cross join unnest(p.labels, p.scores) with ordinality element (label, score, j)
    where element.label is not null) e on e.upload_id = b.upload_id and e.block = b.block and e.n = position.n
group by b.upload_id, b.block, b.k, b.scored;

drop trigger images_deleted_predictions on images;
drop function images_delete_predictions();
drop trigger prediction_uploads_deleted_predictions on prediction_uploads;
drop function prediction_uploads_delete_predictions();
drop table predictions;
drop function predictions_check_references();

create function prediction_uploads_delete_prediction_blocks() returns trigger language plpgsql as $$
begin
    delete from prediction_blocks b using old_rows o where b.upload_id = o.id;
    return null;
end $$;
create trigger prediction_uploads_deleted_prediction_blocks after delete on prediction_uploads
    referencing old table as old_rows for each statement execute function prediction_uploads_delete_prediction_blocks();

-- Every upload's rows, as the table had them: readers keep their SQL (filter by upload_id: the blocks of that upload
-- are read, unpacked and joined to the images that still exist in the upload's dataset).
create view predictions as
select b.upload_id, r.image_id, r.labels, r.scores
from prediction_blocks b
join prediction_uploads u on u.id = b.upload_id
cross join lateral prediction_block_rows(b.block, b.k, b.labels, b.scores) r
join images i on i.id = r.image_id and i.dataset_id = u.dataset_id;
