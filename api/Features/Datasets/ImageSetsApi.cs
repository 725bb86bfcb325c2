using System.Security.Claims;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Datasets;

public sealed record ImageSetResponse
{
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required long Images { get; init; }
    /// <summary>files (listed file names), reviewed (images with a verdict when made), import or labeling.</summary>
    public required string Source { get; init; }
    /// <summary>Moves whenever the set's members change (only sets that imports and labeling maintain change).</summary>
    public required int Revision { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A new image set: from the given file names, or from the images with at least one verdict (from = reviewed).</summary>
public sealed record CreateImageSetRequest(string? Name, string? Description, string[]? Files, string? From);

/// <summary>
/// Image sets are a dataset's declared evaluation scopes: every board, model page and analysis can grade every entry on
/// one, and applies it by name to both datasets of a shift pair. A set made here is fixed; the sets that imports and
/// labeling maintain move their revision whenever their members change.
/// </summary>
public static partial class ImageSetsApi
{
    public const int MaxFiles = 1_000_000;
    /// <summary>The name that means every image of a dataset in a request: no set may take it.</summary>
    public const string All = "all";
    /// <summary>The set an ICML 2020 import brings (the images it annotates), and the default scope of a dataset that has it.</summary>
    public const string Annotated = "annotated";

    public static void MapImageSets(this RouteGroupBuilder datasets)
    {
        datasets.MapGet("/{slug}/image-sets", List).WithName("ListImageSets")
            .WithSummary("The dataset's image sets (evaluation scopes) with their sizes; 'all' names every image.");
        datasets.MapPost("/{slug}/image-sets", Create).WithName("CreateImageSet").RequireAuthorization(Policies.Admin)
            .WithSummary("Declare an image set from a list of file names or from the images with at least one review (from = reviewed).");
    }

    private const string Select =
        """
        select s.name, s.description, (select count(*) from image_set_members m where m.image_set_id = s.id) as images,
               s.source, s.revision, s.created_at
        from image_sets s
        """;

    public static async Task<Results<Ok<ImageSetResponse[]>, ProblemHttpResult>> List(NpgsqlDataSource db, string slug)
    {
        await using var connection = await db.OpenConnectionAsync();
        var datasetId = await connection.QuerySingleOrDefaultAsync<long?>("select id from datasets where slug = @slug", new { slug });
        if (datasetId is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        var rows = await connection.QueryAsync<ImageSetResponse>(Select + " where s.dataset_id = @datasetId order by s.name", new { datasetId });
        return TypedResults.Ok(rows.ToArray());
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$")]
    private static partial Regex NamePattern();

    public static async Task<Results<Created<ImageSetResponse>, ProblemHttpResult>> Create(
        string slug, CreateImageSetRequest request, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        var errors = new LineErrors();
        if (request.Name is null || !NamePattern().IsMatch(request.Name))
            errors.Add(0, "name", "Lowercase letters, digits, '-' and '_', at most 63 characters.");
        else if (request.Name == All)
            errors.Add(0, "name", "'all' names every image of a dataset; choose another name.");
        if (request.Description is { Length: > 10_000 }) errors.Add(0, "description", "At most 10,000 characters.");
        if ((request.Files is null) == (request.From is null))
            errors.Add(0, "files", "Give exactly one of files (a list of file names) or from ('reviewed').");
        if (request.From is not (null or "reviewed")) errors.Add(0, "from", "'reviewed': the images with at least one verdict.");
        if (request.Files is { Length: 0 or > MaxFiles }) errors.Add(0, "files", $"1 to {MaxFiles:N0} file names.");
        if (errors.Any) return errors.ToProblem("Invalid image set (nothing was written)");

        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var datasetId = await connection.QuerySingleOrDefaultAsync<long?>(
            "select id from datasets where slug = @slug for key share", new { slug }, transaction);
        if (datasetId is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        if (await connection.ExecuteScalarAsync<bool>(
                "select exists (select 1 from image_sets where dataset_id = @datasetId and name = @Name)", new { datasetId, request.Name }, transaction))
            return Problems.Conflict("Image set exists", $"Dataset '{slug}' already has an image set '{request.Name}'; a declared scope does not change.");

        long[] imageIds;
        if (request.Files is { } files)
        {
            var found = (await connection.QueryAsync<(string FileName, long Id)>(
                "select file_name, id from images where dataset_id = @datasetId and file_name = any(@files)", new { datasetId, files }, transaction))
                .ToDictionary(r => r.FileName, r => r.Id, StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < files.Length; i++)
            {
                if (!found.ContainsKey(files[i] ?? "")) errors.Add(i + 1, $"files[{i}]", $"'{files[i]}' is not an image of {slug}.");
                else if (!seen.Add(files[i])) errors.Add(i + 1, $"files[{i}]", $"'{files[i]}' is listed twice.");
            }
            if (errors.Any) return errors.ToProblem("Invalid image set (line = position in files, from 1; nothing was written)");
            imageIds = files.Select(f => found[f]).ToArray();
        }
        else
            imageIds = (await connection.QueryAsync<long>(
                """
                select distinct r.image_id from review_items r join images i on i.id = r.image_id
                where i.dataset_id = @datasetId and exists (select 1 from verdict_events e where e.item_id = r.id)
                """,
                new { datasetId }, transaction)).ToArray();
        if (imageIds.Length == 0) return Problems.Unprocessable("Empty image set", "images", "No image has a verdict yet: nothing to declare.");

        await ReplaceAsync(connection, transaction, datasetId.Value, request.Name!, request.Description ?? "",
            request.Files is null ? "reviewed" : "files", imageIds, user.UserId());
        await transaction.CommitAsync();
        var created = await connection.QuerySingleAsync<ImageSetResponse>(
            Select + " where s.dataset_id = @datasetId and s.name = @Name", new { datasetId, request.Name });
        return TypedResults.Created($"/api/datasets/{slug}/image-sets", created);
    }

    /// <summary>
    /// Creates the set or replaces its members, moving its revision (the caches of boards on it key on it). For the sets
    /// that imports and labeling maintain, and for new ones.
    /// </summary>
    public static async Task ReplaceAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, string name, string description, string source,
        long[] imageIds, long? createdBy = null)
    {
        var setId = await connection.ExecuteScalarAsync<long>(
            """
            insert into image_sets (dataset_id, name, description, source, created_by) values (@datasetId, @name, @description, @source, @createdBy)
            on conflict (dataset_id, name) do update set description = excluded.description, revision = image_sets.revision + 1
            returning id
            """,
            new { datasetId, name, description, source, createdBy }, transaction);
        await connection.ExecuteAsync("delete from image_set_members where image_set_id = @setId", new { setId }, transaction);
        await connection.ExecuteAsync(
            "insert into image_set_members (image_set_id, image_id) select @setId, unnest(@imageIds) on conflict do nothing",
            new { setId, imageIds }, transaction);
    }
}
