-- Every label-changing submit inserts and deletes a label_version_requests row, and every "next" and submit writes
-- review_leases: both tables are nearly always empty. Vacuum would truncate them and the next write extend them again;
-- a truncation takes an exclusive lock that submits queue behind. Their few pages stay.
alter table label_version_requests set (vacuum_truncate = false);
alter table review_leases set (vacuum_truncate = false);
