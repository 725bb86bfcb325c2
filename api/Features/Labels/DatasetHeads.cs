using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Labels;

/// <summary>A dataset as a reader sees it on one request: cheap to read, and the key of every cache of the leaderboard.</summary>
public sealed record DatasetHead
{
    public required long Id { get; init; }
    public required string Slug { get; init; }
    public required string Name { get; init; }
    public required long LabelSpaceId { get; init; }
    public required long LabelVersion { get; init; }
    public required string ConsensusRule { get; init; }
    public required long? ShiftOf { get; init; }
    /// <summary>The dataset paired with this one for distribution shift (its shift_of is this dataset).</summary>
    public required long? ShiftedBy { get; init; }
    public required long ImageCount { get; init; }
    /// <summary>Moves whenever the dataset's images change (dataset_image_epochs).</summary>
    public required long ImageEpoch { get; init; }
    public required long SubsetCount { get; init; }
    public required long ReferenceSet { get; init; }
    /// <summary>
    /// When the database server started. A review submit is visible a moment before it is on disk (see
    /// <see cref="ReviewerBatch"/>), so a crash in that moment can drop it and give its label version to a later write:
    /// what is cached per label version is also cached per server start.
    /// </summary>
    public required DateTimeOffset ServerStarted { get; init; }
    /// <summary>The paper's rule as a setting: an image whose original label was decided wrong is problematic.</summary>
    public required bool OriginalWrongIsProblematic { get; init; }
    /// <summary>The dataset's image sets as "id.revision,..."; moves whenever a set is created or its members change.</summary>
    public required string ImageSetsKey { get; init; }

    /// <summary>What the image data (positions, original classes, subsets, reference labels) depends on.</summary>
    public string ImagesKey => $"{ImageEpoch}/{ImageCount}/{SubsetCount}/{ReferenceSet}";
}

/// <summary>The label side of a dataset's row, as a writer reads it under a lock in its transaction.</summary>
public sealed record LabelHead(long Id, long LabelSpaceId, string ConsensusRule, long LabelVersion);

/// <summary>How a writer holds the dataset row: FOR KEY SHARE lets other writers append; FOR UPDATE excludes them.</summary>
public enum HeadLock { KeyShare, Update }

/// <summary>The one query of a dataset's head row, and the narrower one that writers lock.</summary>
public static class DatasetHeads
{
    /// <summary>Selects <see cref="DatasetHead"/> rows from datasets d (each caller adds one of the where clauses below).</summary>
    private const string Select =
        """
        select d.id, d.slug, d.name, d.label_space_id, d.label_version, d.consensus_rule, d.shift_of,
               (select s.id from datasets s where s.shift_of = d.id order by s.id limit 1) as shifted_by,
               coalesce((select e.images from dataset_image_epochs e where e.dataset_id = d.id), 0) as image_count,
               coalesce((select e.epoch from dataset_image_epochs e where e.dataset_id = d.id), 0) as image_epoch,
               (select count(*) from subsets s where s.dataset_id = d.id) as subset_count,
               coalesce((select r.id from reference_label_sets r where r.dataset_id = d.id), 0) as reference_set,
               pg_postmaster_start_time() as server_started, d.original_wrong_is_problematic,
               coalesce((select string_agg(s.id || '.' || s.revision, ',' order by s.id) from image_sets s where s.dataset_id = d.id), '') as image_sets_key
        from datasets d
        """;

    private const string BySlugSql = Select + " where d.slug = @slug";
    private const string ByIdSql = Select + " where d.id = @id";

    public static Task<DatasetHead?> BySlugAsync(NpgsqlConnection connection, string slug) =>
        connection.QuerySingleOrDefaultAsync<DatasetHead>(BySlugSql, new { slug });

    public static Task<DatasetHead?> ByIdAsync(NpgsqlConnection connection, long id) =>
        connection.QuerySingleOrDefaultAsync<DatasetHead>(ByIdSql, new { id });

    /// <summary>
    /// The head of an image's dataset, as one statement of a caller's batch; <paramref name="image"/> is a parameter or
    /// a scalar subquery naming the image.
    /// </summary>
    public static string OfImageSql(string image) => Select + $" where d.id = (select dataset_id from images where id = {image});";

    private const string LabelSelect = "select d.id, d.label_space_id, d.consensus_rule, d.label_version from datasets d";

    /// <summary>The label head by slug, without a lock.</summary>
    public static Task<LabelHead?> LabelHeadAsync(NpgsqlConnection connection, string slug) =>
        connection.QuerySingleOrDefaultAsync<LabelHead>(LabelSelect + " where d.slug = @slug", new { slug });

    /// <summary>Locks a dataset's row for a write in the caller's transaction and reads its label head.</summary>
    public static Task<LabelHead?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, HeadLock mode) =>
        connection.QuerySingleOrDefaultAsync<LabelHead>(
            mode == HeadLock.Update ? LabelSelect + " where d.id = @id for update" : LabelSelect + " where d.id = @id for key share",
            new { id }, transaction);

    /// <summary>Locks a dataset's row, named by its slug, for a write in the caller's transaction.</summary>
    public static Task<LabelHead?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string slug, HeadLock mode) =>
        connection.QuerySingleOrDefaultAsync<LabelHead>(
            mode == HeadLock.Update ? LabelSelect + " where d.slug = @slug for update" : LabelSelect + " where d.slug = @slug for key share",
            new { slug }, transaction);

    /// <summary>Locks the dataset of a review item (FOR KEY SHARE) and reads its label head; null when there is no such item.</summary>
    public static Task<LabelHead?> LockOfItemAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long itemId) =>
        connection.QuerySingleOrDefaultAsync<LabelHead>(
            """
            select d.id, d.label_space_id, d.consensus_rule, d.label_version
            from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where r.id = @itemId for key share of d
            """,
            new { itemId }, transaction);
}
