-- How many images each dataset has, kept beside its image epoch by the same statement-level triggers: listing
-- datasets reads one row per dataset instead of counting 50,000 images for each one on every request.
alter table dataset_image_epochs add column images bigint not null default 0;

drop trigger images_inserted on images;
drop trigger images_updated on images;
drop trigger images_deleted on images;
drop function bump_dataset_image_epochs();

create function images_changed() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into dataset_image_epochs (dataset_id, epoch, images)
        select dataset_id, 1, count(*) from new_images group by dataset_id
        on conflict (dataset_id) do update
        set epoch = dataset_image_epochs.epoch + 1, images = dataset_image_epochs.images + excluded.images;
    elsif tg_op = 'DELETE' then
        insert into dataset_image_epochs (dataset_id, epoch, images)
        select dataset_id, 1, -count(*) from old_images group by dataset_id
        on conflict (dataset_id) do update
        set epoch = dataset_image_epochs.epoch + 1, images = dataset_image_epochs.images + excluded.images;
    else
        -- An update that moves images between datasets moves their counts; any update moves the epoch.
        insert into dataset_image_epochs (dataset_id, epoch, images)
        select dataset_id, 1, sum(delta)
        from (select dataset_id, 1 as delta from new_images union all select dataset_id, -1 from old_images) changed
        group by dataset_id
        on conflict (dataset_id) do update
        set epoch = dataset_image_epochs.epoch + 1, images = dataset_image_epochs.images + excluded.images;
    end if;
    return null;
end
$$;

create trigger images_inserted after insert on images referencing new table as new_images
    for each statement execute function images_changed();
create trigger images_updated after update on images referencing old table as old_images new table as new_images
    for each statement execute function images_changed();
create trigger images_deleted after delete on images referencing old table as old_images
    for each statement execute function images_changed();

update dataset_image_epochs e set images = (select count(*) from images i where i.dataset_id = e.dataset_id);
