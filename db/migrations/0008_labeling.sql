-- Humans as classifiers: labeling tasks (training or evaluation), their images and labelers, and the answers
-- with server-side timing.

create table labeling_tasks (
    id          bigint generated always as identity primary key,
    dataset_id  bigint not null references datasets (id) on delete cascade,
    name        text not null check (length(name) between 1 and 200),
    mode        text not null check (mode in ('training', 'evaluation')),
    part_size   integer not null check (part_size between 1 and 10000),
    -- How the images were chosen (sample size and seed, subset, or an explicit list), for the record.
    selection   jsonb not null,
    created_by  bigint not null references users (id),
    created_at  timestamptz not null default now()
);

-- The images of a task in the order labelers see them (position 1, 2, …).
create table labeling_task_images (
    task_id  bigint not null references labeling_tasks (id) on delete cascade,
    position integer not null check (position > 0),
    image_id bigint not null references images (id) on delete cascade,
    primary key (task_id, position),
    unique (task_id, image_id)
);

create table labeling_task_labelers (
    task_id      bigint not null references labeling_tasks (id) on delete cascade,
    user_id      bigint not null references users (id) on delete cascade,
    submitted_at timestamptz,
    primary key (task_id, user_id)
);
create index labeling_task_labelers_user on labeling_task_labelers (user_id);

-- One row per labeler and image, created when the image is first shown (started_at). A pause stops the clock
-- (paused_at) and a resume adds the pause to paused_seconds; seconds is the active time until the first answer.
create table labeling_answers (
    task_id        bigint not null,
    user_id        bigint not null,
    image_id       bigint not null references images (id) on delete cascade,
    started_at     timestamptz not null default now(),
    paused_at      timestamptz,
    paused_seconds double precision not null default 0 check (paused_seconds >= 0),
    answered_at    timestamptz,
    wnid           text references synsets (wnid),
    seconds        double precision check (seconds >= 0),
    changes        integer not null default 0,
    primary key (task_id, user_id, image_id),
    foreign key (task_id, user_id) references labeling_task_labelers (task_id, user_id) on delete cascade,
    check ((wnid is null) = (answered_at is null))
);
create index labeling_answers_image on labeling_answers (image_id) where wnid is not null;
