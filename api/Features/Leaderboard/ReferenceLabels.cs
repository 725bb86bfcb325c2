using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using NpgsqlTypes;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Leaderboard;

public sealed record ReferenceLabelsResponse(string Dataset, long Images, long Excluded, long Labels);

/// <summary>
/// Imports reference multi-labels in the ReaL format (real.json of google-research/reassessed-imagenet): a JSON list
/// with one list of class indices per image, in the sorted file-name order of the dataset's images; an empty list
/// leaves the image out of ReaL accuracy. The import replaces the dataset's set whole.
/// </summary>
public static class ReferenceLabels
{
    public static void MapReferenceLabels(this IEndpointRouteBuilder routes)
    {
        routes.MapPut("/api/datasets/{slug}/reference-labels", Import).WithTags("Datasets").WithName("ImportReferenceLabels")
            .RequireAuthorization(Policies.Admin)
            .RawBody("real.json: a list, in sorted file-name order of the dataset's images, of lists of class indices.", "application/json")
            .WithSummary("Replace the dataset's reference multi-labels (ReaL format); an empty list excludes the image from ReaL accuracy.");
    }

    public static async Task<Results<Ok<ReferenceLabelsResponse>, ProblemHttpResult>> Import(
        string slug, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            return TypedResults.Problem(title: "Unsupported content type", statusCode: 415, detail: "Send application/json (real.json).");
        short[][]? sets;
        try { sets = await JsonSerializer.DeserializeAsync<short[][]>(request.Body); }
        catch (JsonException e) { return Problems.Unprocessable("Invalid reference labels", "body", $"Expected a list of lists of class indices: {e.Message}"); }
        if (sets is null) return Problems.Unprocessable("Invalid reference labels", "body", "Expected a list of lists of class indices.");

        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var dataset = await connection.QuerySingleOrDefaultAsync<(long Id, long LabelSpaceId)?>(
            "select id, label_space_id from datasets where slug = @slug for update", new { slug }, transaction);
        if (dataset is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        var classCount = await connection.ExecuteScalarAsync<int>(
            "select count(*) from label_space_classes where label_space_id = @LabelSpaceId", new { dataset.Value.LabelSpaceId }, transaction);
        var imageIds = (await connection.QueryAsync<long>(
            "select id from images where dataset_id = @Id order by file_name collate \"C\"", new { dataset.Value.Id }, transaction)).ToArray();

        var errors = new LineErrors();
        if (sets.Length != imageIds.Length)
            errors.Add(0, "body", $"{sets.Length} entries for {imageIds.Length} images: give one list per image, in sorted file-name order.");
        for (var i = 0; i < sets.Length; i++)
        {
            if (sets[i] is null) { errors.Add(i + 1, "labels", "null: give a list (empty to exclude the image)."); continue; }
            foreach (var c in sets[i])
                if (c < 0 || c >= classCount) errors.Add(i + 1, "labels", $"Class index {c} is not within 0-{classCount - 1}.");
            if (sets[i].Distinct().Count() != sets[i].Length) errors.Add(i + 1, "labels", "A class index appears twice.");
        }
        if (errors.Any) return errors.ToProblem("Invalid reference labels (line = entry, from 1)");

        await connection.ExecuteAsync("delete from reference_label_sets where dataset_id = @Id", new { dataset.Value.Id }, transaction);
        var excluded = sets.Count(s => s.Length == 0);
        await connection.ExecuteAsync(
            """
            insert into reference_label_sets (dataset_id, imported_by, images, excluded)
            values (@Id, @userId, @images, @excluded)
            """,
            new { dataset.Value.Id, userId = user.UserId(), images = sets.Length, excluded }, transaction);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy dataset_reference_labels (dataset_id, image_id, class_indices) from stdin (format binary)"))
        {
            for (var i = 0; i < sets.Length; i++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(dataset.Value.Id, NpgsqlDbType.Bigint);
                await copy.WriteAsync(imageIds[i], NpgsqlDbType.Bigint);
                await copy.WriteAsync(sets[i], NpgsqlDbType.Array | NpgsqlDbType.Smallint);
            }
            await copy.CompleteAsync();
        }
        await transaction.CommitAsync();
        return TypedResults.Ok(new ReferenceLabelsResponse(slug, sets.Length, excluded, sets.Sum(s => (long)s.Length)));
    }
}
