using System.Text;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Datasets;

public sealed record CreateDatasetRequest(
    string Slug,
    string Name,
    string? Description,
    string[]? Classes,
    string? LabelSpaceOf,
    string? ShiftOf,
    bool? ImagesPublic,
    string? ConsensusRule);

public sealed record DatasetResponse
{
    public required string Slug { get; init; }
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required int ClassCount { get; init; }
    public required long ImageCount { get; init; }
    public required string? ShiftOf { get; init; }
    public required string[] SharesLabelSpaceWith { get; init; }
    public required string ConsensusRule { get; init; }
    public required bool ImagesPublic { get; init; }
    /// <summary>The paper's rule: an image whose original label reviewers decided wrong is left out as problematic.</summary>
    public required bool OriginalWrongIsProblematic { get; init; }
    /// <summary>Whether an admin made it the leaderboard's default (at most one dataset is).</summary>
    public required bool Featured { get; init; }
    /// <summary>How many models (and humans, ensembles) have predictions on it: the leaderboard's entries.</summary>
    public required int Entries { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The settings of a dataset that can change; a field left out keeps its value.</summary>
/// <param name="Featured">True makes it the leaderboard's default (and unfeatures any other); false unfeatures it.</param>
public sealed record UpdateDatasetRequest(bool? OriginalWrongIsProblematic, bool? Featured);

public sealed record DatasetClass
{
    public required int Index { get; init; }
    public required string Wnid { get; init; }
    public required string[] Lemmas { get; init; }
    public required string Gloss { get; init; }
    public required long ImageCount { get; init; }
}

public sealed record SubsetResponse
{
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required int ClassCount { get; init; }
    public required bool BuiltIn { get; init; }
    public required string? IncludeRoot { get; init; }
    public required string? ExcludeRoot { get; init; }
    public required string[]? Wnids { get; init; }
}

public sealed record CreateSubsetRequest(string Name, string? Description, string? IncludeRoot, string? ExcludeRoot, string[]? Wnids);

public sealed record ReplaceClassesResponse(string Dataset, int ClassCount);

public sealed class CreateDatasetValidator : AbstractValidator<CreateDatasetRequest>
{
    public CreateDatasetValidator()
    {
        RuleFor(r => r.Slug).NotEmpty().Matches("^[a-z0-9][a-z0-9-]{0,62}$")
            .WithMessage("slug: lowercase letters, digits and '-', at most 63 characters.");
        RuleFor(r => r.Name).NotEmpty().MaximumLength(200);
        RuleFor(r => r.Description).MaximumLength(10_000);
        RuleFor(r => r).Must(r => (r.Classes is null) != (r.LabelSpaceOf is null))
            .WithName("classes").WithMessage("Give exactly one of classes (a list of wnids) or labelSpaceOf (another dataset).");
        RuleFor(r => r.ConsensusRule).Matches("^(latest|majority|agreement:[1-9][0-9]?)$").When(r => r.ConsensusRule is not null)
            .WithMessage("consensusRule: 'latest', 'majority' or 'agreement:N'.");
    }
}

public sealed class CreateSubsetValidator : AbstractValidator<CreateSubsetRequest>
{
    public CreateSubsetValidator()
    {
        RuleFor(r => r.Name).NotEmpty().Matches("^[a-z0-9][a-z0-9-]{0,62}$");
        RuleFor(r => r).Must(r => r.IncludeRoot is not null || r.ExcludeRoot is not null || r.Wnids is not null)
            .WithName("definition").WithMessage("Give includeRoot (a WordNet root), excludeRoot (its complement) or wnids (an explicit list).");
        RuleFor(r => r.Wnids).Must(w => w is null || w.Length is > 0 and <= 100_000).WithMessage("wnids: 1 to 100,000 entries.");
    }
}

/// <summary>Datasets, their label spaces (class lists) and subsets; image sets are in <see cref="ImageSetsApi"/>.</summary>
public static class DatasetsApi
{
    public static RouteGroupBuilder MapDatasets(this IEndpointRouteBuilder routes)
    {
        // Reads are public; every write is an admin's. A dataset's classes are its label space, shared with the datasets
        // created with labelSpaceOf; subsets name classes by a WordNet root, its complement or a list.
        var group = routes.MapGroup("/api/datasets").WithTags("Datasets").WithValidation();
        group.MapGet("/", List).WithName("ListDatasets").WithSummary("Every dataset with its class and image counts.");
        group.MapGet("/{slug}", Get).WithName("GetDataset").WithSummary("One dataset.");
        group.MapPost("/", Create).WithName("CreateDataset").RequireAuthorization(Policies.Admin)
            .WithSummary("Create a dataset with its own class list or the label space of another dataset.");
        group.MapGet("/{slug}/classes", Classes).WithName("ListClasses")
            .WithSummary("The label space in class-index order, optionally restricted to a subset.");
        group.MapPut("/{slug}/classes", ReplaceClasses).WithName("ReplaceClasses").RequireAuthorization(Policies.Admin)
            .RawBody("A JSON array of wnids in class-index order, or synset_words.txt text.", "application/json", "text/plain")
            .WithSummary("Replace the class list: a JSON array of wnids or synset_words.txt text ('n01440764 tench, Tinca tinca' per line).");
        group.MapGet("/{slug}/subsets", Subsets).WithName("ListSubsets").WithSummary("The subsets of the label space with their class counts.");
        group.MapPost("/{slug}/subsets", CreateSubset).WithName("CreateSubset").RequireAuthorization(Policies.Admin)
            .WithSummary("Add a subset defined by a WordNet root, the complement of one, or an explicit list of classes.");
        group.MapPatch("/{slug}", Update).WithName("UpdateDataset").RequireAuthorization(Policies.Admin)
            .WithSummary("Change a dataset's settings: originalWrongIsProblematic (the paper's rule; off by default), featured (the leaderboard's default).");
        group.MapImageSets();
        return group;
    }

    private const string DatasetSelect =
        """
        select d.slug, d.name, d.description,
               (select count(*)::int from label_space_classes c where c.label_space_id = d.label_space_id) as class_count,
               coalesce((select e.images from dataset_image_epochs e where e.dataset_id = d.id), 0) as image_count,
               (select s.slug from datasets s where s.id = d.shift_of) as shift_of,
               array(select o.slug from datasets o where o.label_space_id = d.label_space_id and o.id <> d.id order by o.slug) as shares_label_space_with,
               d.consensus_rule, d.images_public, d.original_wrong_is_problematic, d.featured,
               (select count(*)::int from prediction_sets p where p.dataset_id = d.id) as entries, d.created_at
        from datasets d
        """;

    public static async Task<Ok<DatasetResponse[]>> List(NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var rows = await connection.QueryAsync<DatasetResponse>(DatasetSelect + " order by d.slug");
        return TypedResults.Ok(rows.ToArray());
    }

    public static async Task<Results<Ok<DatasetResponse>, ProblemHttpResult>> Get(NpgsqlDataSource db, string slug)
    {
        await using var connection = await db.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<DatasetResponse>(DatasetSelect + " where d.slug = @slug", new { slug });
        return row is null ? Problems.NotFound($"Dataset '{slug}' does not exist.") : TypedResults.Ok(row);
    }

    public static async Task<Results<Ok<DatasetResponse>, ProblemHttpResult>> Update(string slug, UpdateDatasetRequest request, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var updated = await connection.ExecuteAsync(
            """
            update datasets set original_wrong_is_problematic = coalesce(@OriginalWrongIsProblematic, original_wrong_is_problematic)
            where slug = @slug
            """,
            new { slug, request.OriginalWrongIsProblematic }, transaction);
        if (updated == 0) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        if (request.Featured is { } featured)
        {
            // One featured dataset: the one featured before is unfeatured first, in the same transaction.
            if (featured)
                await connection.ExecuteAsync("update datasets set featured = false where featured and slug <> @slug", new { slug }, transaction);
            await connection.ExecuteAsync("update datasets set featured = @featured where slug = @slug", new { slug, featured }, transaction);
        }
        await transaction.CommitAsync();
        return TypedResults.Ok(await connection.QuerySingleAsync<DatasetResponse>(DatasetSelect + " where d.slug = @slug", new { slug }));
    }

    public static async Task<Results<Created<DatasetResponse>, ProblemHttpResult>> Create(
        CreateDatasetRequest request, NpgsqlDataSource db)
    {

        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        long? shiftOf = null;
        if (request.ShiftOf is not null)
        {
            shiftOf = await connection.QuerySingleOrDefaultAsync<long?>(
                "select id from datasets where slug = @slug", new { slug = request.ShiftOf }, transaction);
            if (shiftOf is null) return Problems.Unprocessable("Unknown dataset", "shiftOf", $"shiftOf: dataset '{request.ShiftOf}' does not exist.");
        }

        long labelSpaceId;
        if (request.LabelSpaceOf is not null)
        {
            var shared = await connection.QuerySingleOrDefaultAsync<long?>(
                "select label_space_id from datasets where slug = @slug", new { slug = request.LabelSpaceOf }, transaction);
            if (shared is null) return Problems.Unprocessable("Unknown dataset", "labelSpaceOf", $"labelSpaceOf: dataset '{request.LabelSpaceOf}' does not exist.");
            labelSpaceId = shared.Value;
        }
        else
        {
            var classes = new ClassList(request.Classes!, request.Classes!.Select((_, i) => (long)i + 1).ToList());
            var errors = new LineErrors();
            await LabelSpaces.ValidateAsync(connection, classes, errors);
            if (errors.Any) return errors.ToProblem("Invalid class list (line = position in classes, from 1)");
            labelSpaceId = await connection.ExecuteScalarAsync<long>(
                "insert into label_spaces default values returning id", transaction: transaction);
            await LabelSpaces.ReplaceClassesAsync(connection, transaction, labelSpaceId, classes.Wnids);
        }

        var exists = await connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from datasets where slug = @Slug)", new { request.Slug }, transaction);
        if (exists) return Problems.Conflict("Dataset exists", $"A dataset with slug '{request.Slug}' already exists.");

        var datasetId = await connection.ExecuteScalarAsync<long>(
            """
            insert into datasets (slug, name, description, label_space_id, shift_of, images_public, consensus_rule)
            values (@Slug, @Name, @Description, @labelSpaceId, @shiftOf, @imagesPublic, @consensusRule)
            returning id
            """,
            new
            {
                request.Slug,
                request.Name,
                Description = request.Description ?? "",
                labelSpaceId,
                shiftOf,
                imagesPublic = request.ImagesPublic ?? false,
                consensusRule = request.ConsensusRule ?? "latest",
            },
            transaction);
        await CreateBuiltInSubsetsAsync(connection, transaction, datasetId);
        await transaction.CommitAsync();

        var created = await connection.QuerySingleAsync<DatasetResponse>(DatasetSelect + " where d.id = @datasetId", new { datasetId });
        return TypedResults.Created($"/api/datasets/{created.Slug}", created);
    }

    public static async Task CreateBuiltInSubsetsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId)
    {
        foreach (var (name, description, include, exclude) in LabelSpaces.BuiltInSubsets)
            await connection.ExecuteAsync(
                """
                insert into subsets (dataset_id, name, description, include_root, exclude_root, built_in)
                values (@datasetId, @name, @description, @include, @exclude, true)
                """,
                new { datasetId, name, description, include, exclude }, transaction);
    }

    /// <param name="subset">Only the classes of this subset (default all).</param>
    public static async Task<Results<Ok<DatasetClass[]>, ProblemHttpResult>> Classes(NpgsqlDataSource db, string slug, string? subset = null)
    {
        await using var connection = await db.OpenConnectionAsync();
        var ids = await connection.QuerySingleOrDefaultAsync<(long DatasetId, long? SubsetId)?>(
            """
            select d.id, s.id from datasets d
            left join subsets s on s.dataset_id = d.id and s.name = coalesce(@subset, 'all')
            where d.slug = @slug
            """,
            new { slug, subset });
        if (ids is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        if (ids.Value.SubsetId is null) return Problems.NotFound($"Dataset '{slug}' has no subset '{subset}'.");
        var rows = await connection.QueryAsync<DatasetClass>(
            """
            select c.class_index as index, c.wnid, s.lemmas, s.gloss,
                   (select count(*) from images i where i.dataset_id = @datasetId and i.original_wnid = c.wnid) as image_count
            from datasets d
            join label_space_classes c on c.label_space_id = d.label_space_id
            join synsets s on s.wnid = c.wnid
            where d.id = @datasetId and c.wnid in (select wnid from subset_wnids(@subsetId))
            order by c.class_index
            """,
            new { datasetId = ids.Value.DatasetId, subsetId = ids.Value.SubsetId });
        return TypedResults.Ok(rows.ToArray());
    }

    public static async Task<Results<Ok<ReplaceClassesResponse>, ProblemHttpResult>> ReplaceClasses(
        string slug, HttpRequest request, NpgsqlDataSource db, IOptions<RelabelOptions> options)
    {
        if (RequestLimits.Apply(request.HttpContext, options.Value.MaxManifestBytes) is { } tooLarge) return tooLarge;
        var json = request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true;
        var text = request.ContentType?.StartsWith("text/", StringComparison.OrdinalIgnoreCase) == true;
        if (!json && !text)
            return TypedResults.Problem(title: "Unsupported content type", statusCode: StatusCodes.Status415UnsupportedMediaType,
                detail: "Send application/json (an array of wnids) or text/plain (synset_words.txt lines).");
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
            body = await reader.ReadToEndAsync();

        var errors = new LineErrors();
        var classes = LabelSpaces.Parse(body, json, errors);
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var dataset = await connection.QuerySingleOrDefaultAsync<(long Id, long LabelSpaceId)?>(
            "select id, label_space_id from datasets where slug = @slug for update", new { slug }, transaction);
        if (dataset is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        if (classes is not null) await LabelSpaces.ValidateAsync(connection, classes, errors);
        if (errors.Any) return errors.ToProblem("Invalid class list");

        if (await DatasetGuards.LabelSpaceInUseAsync(connection, transaction, dataset.Value.LabelSpaceId) is { } reason)
            return Problems.Conflict("Class list is in use", reason);
        var orphaned = await connection.QueryAsync<string>(
            """
            select distinct i.original_wnid from images i join datasets d on d.id = i.dataset_id
            where d.label_space_id = @labelSpaceId and not (i.original_wnid = any(@wnids))
            limit 100
            """,
            new { labelSpaceId = dataset.Value.LabelSpaceId, wnids = classes!.Wnids.ToArray() }, transaction);
        foreach (var wnid in orphaned) errors.Add(0, "wnid", $"Images are labelled '{wnid}', which the new class list lacks.");
        if (errors.Any) return errors.ToProblem("The new class list drops classes that images are labelled with");

        await LabelSpaces.ReplaceClassesAsync(connection, transaction, dataset.Value.LabelSpaceId, classes.Wnids);
        await transaction.CommitAsync();
        return TypedResults.Ok(new ReplaceClassesResponse(slug, classes.Wnids.Count));
    }

    public static async Task<Results<Ok<SubsetResponse[]>, ProblemHttpResult>> Subsets(NpgsqlDataSource db, string slug)
    {
        await using var connection = await db.OpenConnectionAsync();
        var datasetId = await connection.QuerySingleOrDefaultAsync<long?>("select id from datasets where slug = @slug", new { slug });
        if (datasetId is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        var rows = await connection.QueryAsync<SubsetResponse>(
            """
            select s.name, s.description, (select count(*)::int from subset_wnids(s.id)) as class_count,
                   s.built_in, s.include_root, s.exclude_root, s.wnids
            from subsets s where s.dataset_id = @datasetId
            order by s.built_in desc, s.id
            """,
            new { datasetId });
        return TypedResults.Ok(rows.ToArray());
    }

    public static async Task<Results<Created<SubsetResponse>, ProblemHttpResult>> CreateSubset(
        string slug, CreateSubsetRequest request, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var dataset = await connection.QuerySingleOrDefaultAsync<(long Id, long LabelSpaceId)?>(
            "select id, label_space_id from datasets where slug = @slug", new { slug }, transaction);
        if (dataset is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");

        var errors = new LineErrors();
        foreach (var (field, root) in new[] { ("includeRoot", request.IncludeRoot), ("excludeRoot", request.ExcludeRoot) })
            if (root is not null && !await connection.ExecuteScalarAsync<bool>(
                    "select exists (select 1 from synsets where wnid = @root)", new { root }, transaction))
                errors.Add(0, field, $"'{root}' is not a WordNet noun synset.");
        if (request.Wnids is not null)
        {
            var inSpace = (await connection.QueryAsync<string>(
                "select wnid from label_space_classes where label_space_id = @id and wnid = any(@wnids)",
                new { id = dataset.Value.LabelSpaceId, wnids = request.Wnids }, transaction)).ToHashSet();
            for (var i = 0; i < request.Wnids.Length; i++)
                if (!inSpace.Contains(request.Wnids[i]))
                    errors.Add(i + 1, $"wnids[{i}]", $"'{request.Wnids[i]}' is not a class of this dataset.");
        }
        if (errors.Any) return errors.ToProblem("Invalid subset definition");
        if (await connection.ExecuteScalarAsync<bool>(
                "select exists (select 1 from subsets where dataset_id = @id and name = @Name)", new { dataset.Value.Id, request.Name }, transaction))
            return Problems.Conflict("Subset exists", $"Dataset '{slug}' already has a subset '{request.Name}'.");

        var subsetId = await connection.ExecuteScalarAsync<long>(
            """
            insert into subsets (dataset_id, name, description, include_root, exclude_root, wnids)
            values (@datasetId, @Name, @description, @IncludeRoot, @ExcludeRoot, @Wnids)
            returning id
            """,
            new { datasetId = dataset.Value.Id, request.Name, description = request.Description ?? "", request.IncludeRoot, request.ExcludeRoot, request.Wnids },
            transaction);
        await transaction.CommitAsync();
        var created = await connection.QuerySingleAsync<SubsetResponse>(
            """
            select s.name, s.description, (select count(*)::int from subset_wnids(s.id)) as class_count,
                   s.built_in, s.include_root, s.exclude_root, s.wnids
            from subsets s where s.id = @subsetId
            """,
            new { subsetId });
        return TypedResults.Created($"/api/datasets/{slug}/subsets", created);
    }
}

/// <summary>Checks shared by features that must not change a label space under existing results.</summary>
public static class DatasetGuards
{
    /// <summary>Why the classes of a label space cannot change now, or null when they can: predictions refer to class indices.</summary>
    public static async Task<string?> LabelSpaceInUseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long labelSpaceId)
    {
        var used = await connection.QueryFirstOrDefaultAsync<string?>(
            """
            select d.slug from prediction_sets p join datasets d on d.id = p.dataset_id
            where d.label_space_id = @labelSpaceId
            limit 1
            """,
            new { labelSpaceId }, transaction);
        return used is null ? null : $"Dataset '{used}' has predictions over these classes; delete them before changing the class list.";
    }
}
