-- A rule change rewrites the state of nearly every item of a dataset, and each verdict the state of one. The partial
-- index review_items_pending (0002) had state in its predicate, so no such update could stay on its page (a HOT
-- update): each left a dead copy behind and new entries in all three indexes, and the board's whole label read
-- scanned them (a 1,000-model zoo's 88 MB table grew to 290 MB over thirty rule changes). No query uses that index:
-- the review queue has its own table since 0005. Half of each new page stays free, so that a rule change's new
-- versions fit beside the old ones, which the next visit of the page prunes.
drop index review_items_pending;
alter table review_items set (fillfactor = 50);
