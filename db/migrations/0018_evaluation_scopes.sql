-- Evaluation scopes and the paper's rules (issue: the leaderboard as evidence).

-- Image sets are declared scopes: where they came from, and a revision that moves whenever their members change, so
-- that boards computed on a set are recomputed then.
alter table image_sets
    add column source     text not null default 'files' check (source in ('files', 'reviewed', 'import', 'labeling')),
    add column revision   integer not null default 1,
    add column created_by bigint references users (id) on delete set null,
    add column created_at timestamptz not null default now();
-- 'all' names every image of a dataset in a request: no set may take it.
alter table image_sets add constraint image_sets_name_not_all check (name <> 'all');
update image_sets set source = 'labeling' where name in ('humans-labeled', 'humans-fast');
update image_sets set source = 'import' where name = 'imagenet-m';

-- The paper's rule as a setting: an image whose original label reviewers decided wrong is problematic too.
alter table datasets add column original_wrong_is_problematic boolean not null default false;

-- Crowd votes are decided by the majority of the standing verdicts.
alter table datasets drop constraint datasets_consensus_rule_check;
alter table datasets add constraint datasets_consensus_rule_check
    check (consensus_rule ~ '^(latest|majority|agreement:[1-9][0-9]?)$');

-- The paper's no-dogs subset (ILSVRC-2012: the 882 classes not under dog) on every dataset that has the built-ins.
insert into subsets (dataset_id, name, description, exclude_root, built_in)
select d.id, 'no-dogs', 'Classes not under dog (n02084071).', 'n02084071', true
from datasets d
where exists (select 1 from subsets s where s.dataset_id = d.id and s.built_in)
on conflict (dataset_id, name) do nothing;
