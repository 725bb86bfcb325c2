using Dapper;
using Npgsql;
using Relabel.Api.Features.Images;
using Relabel.Api.Features.Labels;
using Relabel.Api.Features.Predictions;

namespace Relabel.Api.Features.Review;

/// <summary>
/// The SQL of the review feature: the queue and its leases, the page of one image, progress and history. Verdicts
/// themselves are written by the label state (<see cref="ReviewerBatch"/>, <see cref="LabelWriter"/>).
/// </summary>
public static class ReviewStore
{
    /// <summary>How long "next" reserves an image for the reviewer it gave it to.</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(5);

    public static readonly string[] Modes = ["pending", "conflicts", "problematic"];

    /// <summary>What "next" found: the dataset or subset missing, or the image leased (null when the queue is empty).</summary>
    public sealed record NextOutcome(bool DatasetMissing, bool SubsetMissing, ReviewImage? Image);

    private sealed record DatasetIds(long DatasetId, long? SubsetId);

    private sealed record Leased(long ImageId, DateTime? ExpiresAt);

    // The dataset and subset are looked up by the same round trip that takes the lease; the ids only tell a 404.
    private const string DatasetId = "(select id from datasets where slug = @dataset)";

    private const string Filters =
        $"""
          and (@wnid::text is null or q.original_wnid = @wnid)
          and (@subset::text is null or q.original_wnid in (
                select w.wnid from subsets s cross join subset_wnids(s.id) w
                where s.dataset_id = {DatasetId} and s.name = @subset))
          and not (q.image_id = any(@skip))
          and not exists (select 1 from review_done d where d.reviewer_id = @me and d.image_id = q.image_id)
        """;

    /// <summary>
    /// Takes the caller's own unexpired lease first (a reload shows the same image), else the first image in priority
    /// order that no one else leases, skipping rows another "next" is taking right now; then the lease. A "next" that
    /// committed after this statement's snapshot may hold the image already: the upsert refuses it (no expiry comes
    /// back), and the caller skips it. The own-lease branch starts from the reviewer's few leases, not the queue.
    /// </summary>
    private static string TakeSql(string join, string condition, string order) =>
        $"""
         with own as (
             select q.image_id
             from review_leases l join review_queue q on q.image_id = l.image_id and l.reviewer_id = @me and l.expires_at > now()
             {join} where q.dataset_id = {DatasetId} and {condition}
             {Filters}
             {order}
             limit 1
         ), free as (
             select q.image_id from review_queue q
             {join} where q.dataset_id = {DatasetId} and {condition}
               and not exists (select 1 from own)
               and not exists (select 1 from review_leases l where l.image_id = q.image_id and l.reviewer_id <> @me and l.expires_at > now())
             {Filters}
             {order}
             limit 1
             for update of q skip locked
         ), chosen as (
             select image_id from own union all select image_id from free
         ), leased as (
             insert into review_leases (image_id, reviewer_id, expires_at)
             select image_id, @me, now() + make_interval(secs => @seconds) from chosen
             on conflict (image_id) do update set reviewer_id = excluded.reviewer_id, expires_at = excluded.expires_at
             where review_leases.reviewer_id = excluded.reviewer_id or review_leases.expires_at <= now()
             returning image_id, expires_at
         )
         select c.image_id, l.expires_at from chosen c left join leased l on l.image_id = c.image_id;
         """;

    private static readonly Dictionary<string, string> Take = new()
    {
        ["pending"] = TakeSql("", "q.pending > 0", "order by q.pending desc, q.image_id"),
        ["conflicts"] = TakeSql("", "q.conflicts > 0", "order by q.conflicts desc, q.image_id"),
        ["problematic"] = TakeSql("join image_states st on st.image_id = q.image_id and st.problematic", "true", "order by q.image_id"),
    };

    /// <summary>
    /// The first round trip of "next": the ids (for a 404), the lease and the page of the image just leased (the
    /// statements of a batch share one transaction, so the lease taken is the reviewer's latest). A lease need not
    /// survive a crash (the image is offered again), so its commit does not wait for the disk.
    /// </summary>
    private static readonly Dictionary<string, string> TakeAndLoad = Take.ToDictionary(t => t.Key, t =>
        $"""
         select set_config('synchronous_commit', 'off', true);
         select d.id as dataset_id, s.id as subset_id from datasets d
         left join subsets s on s.dataset_id = d.id and s.name = @subset
         where d.slug = @dataset;
         {t.Value}
         {LoadSql("(select image_id from review_leases where reviewer_id = @me and expires_at > now() order by expires_at desc, image_id desc limit 1)")}
         """);

    public static async Task<NextOutcome> NextAsync(
        NpgsqlConnection connection, ITop1Votes votes, long me, string dataset, string? subset, string? wnid, string mode, IEnumerable<long> skip)
    {
        var excluded = skip.ToList();
        object Parameters() => new { dataset, subset, me, wnid, skip = excluded.ToArray(), seconds = LeaseDuration.TotalSeconds };
        Leased? leased;
        Loaded? loaded;
        using (var results = await connection.QueryMultipleAsync(TakeAndLoad[mode], Parameters()))
        {
            await results.ReadSingleAsync<string>();
            var ids = await results.ReadSingleOrDefaultAsync<DatasetIds>();
            if (ids is null) return new NextOutcome(true, false, null);
            if (subset is not null && ids.SubsetId is null) return new NextOutcome(false, true, null);
            leased = await results.ReadSingleOrDefaultAsync<Leased>();
            loaded = await ReadLoadedAsync(results);
        }
        for (var attempt = 0; leased is { ExpiresAt: null } && attempt < 8; attempt++)
        {
            excluded.Add(leased.ImageId);
            leased = await connection.QuerySingleOrDefaultAsync<Leased>(Take[mode], Parameters());
            loaded = null;
        }
        if (leased?.ExpiresAt is not { } expires) return new NextOutcome(false, false, null);

        var image = loaded?.Image?.Id == leased.ImageId
            ? await CompleteAsync(connection, votes, loaded)
            : await LoadAsync(connection, votes, leased.ImageId, me);
        return new NextOutcome(false, false, image! with { LeaseExpiresAt = new DateTimeOffset(expires, TimeSpan.Zero) });
    }

    /// <summary>What one image's review page needs, as read from the database.</summary>
    private sealed record Loaded(
        ImageResponse? Image, List<ReviewLabel> Labels, ImageFlagState Flag, List<GuideNote> Notes, DatasetHead? Head, List<UploadHead> Uploads);

    /// <summary>
    /// The statements that read an image's review page; <paramref name="image"/> is a parameter or a scalar subquery.
    /// How many models predict each label is counted afterwards from the leaderboard's cached predictions.
    /// </summary>
    private static string LoadSql(string image) =>
        $"""
         {ImagesApi.ImageSelect} where i.id = {image};

         select r.id as item_id, r.wnid, s.lemmas, s.gloss, r.wnid = i.original_wnid as is_original, 0 as models,
                r.state, r.version, nullif(mine.verdict, 'unreviewed') as my_verdict
         from review_items r
         join images i on i.id = r.image_id
         join synsets s on s.wnid = r.wnid
         left join lateral (
             select e.verdict from verdict_events e
             where e.item_id = r.id and e.reviewer_id = @me and not e.adjudication
             order by e.id desc limit 1
         ) mine on true
         where r.image_id = {image}
         order by r.wnid = i.original_wnid desc, r.id;

         select problematic, reason, version from image_states where image_id = {image};

         select n.id, n.wnid, n.other_wnid, n.body, n.updated_at
         from guide_notes n
         where n.wnid in (select wnid from review_items where image_id = {image})
           and (n.other_wnid is null or n.other_wnid in (select wnid from review_items where image_id = {image}))
         order by n.other_wnid nulls first, n.wnid, n.other_wnid;

         {DatasetHeads.OfImageSql(image)}

         select upload_id, k::int as k from prediction_sets where dataset_id = (select dataset_id from images where id = {image});
         """;

    private static readonly string LoadByIdSql = LoadSql("@imageId");

    private static async Task<Loaded> ReadLoadedAsync(SqlMapper.GridReader results) => new(
        await results.ReadSingleOrDefaultAsync<ImageResponse>(),
        (await results.ReadAsync<ReviewLabel>()).ToList(),
        await results.ReadSingleOrDefaultAsync<ImageFlagState>() ?? new ImageFlagState(false, null, 0),
        (await results.ReadAsync<GuideNote>()).ToList(),
        await results.ReadSingleOrDefaultAsync<DatasetHead>(),
        (await results.ReadAsync<UploadHead>()).ToList());

    private static async Task<ReviewImage?> CompleteAsync(NpgsqlConnection connection, ITop1Votes votes, Loaded loaded)
    {
        if (loaded.Image is null || loaded.Head is null) return null;
        var models = await votes.Top1VotesAsync(connection, loaded.Head, loaded.Uploads, loaded.Image.Id);
        return new ReviewImage(loaded.Image, loaded.Labels.Select(l => l with { Models = models.GetValueOrDefault(l.Wnid) }).ToList(),
            loaded.Flag, loaded.Notes, null);
    }

    /// <summary>An image as the reviewer sees it, in one round trip.</summary>
    public static async Task<ReviewImage?> LoadAsync(NpgsqlConnection connection, ITop1Votes votes, long imageId, long me)
    {
        Loaded loaded;
        using (var results = await connection.QueryMultipleAsync(LoadByIdSql, new { imageId, me }))
            loaded = await ReadLoadedAsync(results);
        return await CompleteAsync(connection, votes, loaded);
    }

    /// <summary>
    /// Runs after a submit's commit, in a transaction whose commit waits for the disk: the image is done for the
    /// reviewer and its lease ends.
    /// </summary>
    public static AfterCommit SubmitDone(long me, long imageId) => new(
        """
        with done as (
            insert into review_done (reviewer_id, image_id) values (@me, @image)
            on conflict (reviewer_id, image_id) do update set submitted_at = now()
        )
        delete from review_leases where image_id = @image and reviewer_id = @me;
        """,
        new { me, image = imageId });

    /// <summary>A review item's state, locked for an adjudication.</summary>
    public static Task<ItemStateResponse> LockItemAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long itemId) =>
        connection.QuerySingleAsync<ItemStateResponse>(
            "select id as item_id, state, version from review_items where id = @itemId for update", new { itemId }, transaction);

    private sealed record StandingVerdict(long ItemId, string Reviewer, string Verdict);

    public static async Task<ReviewProgress> ProgressAsync(NpgsqlConnection connection, LabelHead dataset, string slug, long me)
    {
        using var results = await connection.QueryMultipleAsync(
            """
            select s.name as subset, x.images, x.items, x.decided, x.pending, x.conflicts, x.pending_images, x.conflict_images
            from subsets s
            cross join lateral (
                select count(distinct r.image_id) as images, count(*) as items,
                       count(*) filter (where r.state in ('correct', 'wrong', 'unclear')) as decided,
                       count(*) filter (where r.state = 'pending') as pending,
                       count(*) filter (where r.state = 'conflict') as conflicts,
                       count(distinct r.image_id) filter (where r.state = 'pending') as pending_images,
                       count(distinct r.image_id) filter (where r.state = 'conflict') as conflict_images
                from review_items r join images i on i.id = r.image_id
                where i.dataset_id = @datasetId and i.original_wnid in (select wnid from subset_wnids(s.id))
            ) x
            where s.dataset_id = @datasetId
            order by s.built_in desc, s.id;

            select u.name as reviewer, count(*) as verdicts, count(distinct r.image_id) as images,
                   count(*) filter (where e.created_at >= date_trunc('day', now())) as today,
                   coalesce(sum(e.seconds_spent), 0)::float8 as seconds_spent,
                   case when sum(e.seconds_spent) > 0 then count(*) * 3600.0 / sum(e.seconds_spent) end::float8 as verdicts_per_hour
            from verdict_events e
            join review_items r on r.id = e.item_id
            join images i on i.id = r.image_id
            join users u on u.id = e.reviewer_id
            where i.dataset_id = @datasetId and not e.adjudication and e.verdict <> 'unreviewed'
            group by u.name
            order by count(*) desc, u.name;

            select distinct on (e.item_id, e.reviewer_id) e.item_id, u.name as reviewer, e.verdict
            from verdict_events e
            join review_items r on r.id = e.item_id
            join images i on i.id = r.image_id
            join users u on u.id = e.reviewer_id
            where i.dataset_id = @datasetId and not e.adjudication
            order by e.item_id, e.reviewer_id, e.id desc;

            select count(*) filter (where e.created_at >= date_trunc('day', now())) as today, count(*) as total
            from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
            where i.dataset_id = @datasetId and e.reviewer_id = @me and not e.adjudication and e.verdict <> 'unreviewed';
            """,
            new { datasetId = dataset.Id, me });
        var subsets = (await results.ReadAsync<SubsetProgress>()).ToList();
        var reviewers = (await results.ReadAsync<ReviewerProgress>()).ToList();
        var standing = await results.ReadAsync<StandingVerdict>();
        var mine = await results.ReadSingleAsync<(long Today, long Total)>();
        // Agreement is about decisions: a withdrawn verdict or a "don't know" is no rating.
        var agreement = Agreement.Compute(standing
            .Where(s => Verdicts.Decisive(s.Verdict))
            .GroupBy(s => s.ItemId)
            .Select(g => (IReadOnlyDictionary<string, string>)g.ToDictionary(s => s.Reviewer, s => s.Verdict)));
        return new ReviewProgress(slug, dataset.LabelVersion, dataset.ConsensusRule, subsets, reviewers, agreement, mine.Today, mine.Total);
    }

    /// <summary>Every verdict and flag event of an image, oldest first; null when there is no such image.</summary>
    public static async Task<HistoryEvent[]?> HistoryAsync(NpgsqlConnection connection, long imageId)
    {
        if (!await connection.ExecuteScalarAsync<bool>("select exists (select 1 from images where id = @imageId)", new { imageId }))
            return null;
        var events = await connection.QueryAsync<HistoryEvent>(
            """
            select e.id, 'verdict' as kind, e.created_at, coalesce(u.name, v.name) as author, e.item_id, r.wnid, e.verdict,
                   e.adjudication, null::boolean as problematic, null::text as reason, e.note, e.seconds_spent::float8 as seconds_spent,
                   e.label_version
            from verdict_events e
            join review_items r on r.id = e.item_id
            left join users u on u.id = e.reviewer_id
            left join verdict_sources v on v.id = e.source_id
            where r.image_id = @imageId
            union all
            select f.id, 'flag', f.created_at, coalesce(u.name, v.name), null, null, null, false, f.problematic, f.reason, f.note, null,
                   f.label_version
            from image_flag_events f
            left join users u on u.id = f.reviewer_id
            left join verdict_sources v on v.id = f.source_id
            where f.image_id = @imageId
            order by created_at, kind desc, id
            """,
            new { imageId });
        return events.ToArray();
    }
}
