using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Review;

/// <summary>The labeling guide: admins write a note per class or per confusable pair; signed-in users read them.</summary>
public static class GuideNotesApi
{
    public static RouteGroupBuilder MapGuideNotes(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/guide-notes").WithTags("Review").WithValidation();
        group.MapGet("/", List).WithName("ListGuideNotes").RequireAuthorization(Policies.SignedIn)
            .WithSummary("Guide notes, all or those that mention a class.");
        group.MapPut("/", Put).WithName("PutGuideNote").RequireAuthorization(Policies.Admin)
            .WithSummary("Create or replace the note of a class, or of the pair wnid vs otherWnid (in either order).");
        group.MapPut("/{id:long}", Update).WithName("UpdateGuideNote").RequireAuthorization(Policies.Admin)
            .WithSummary("Edit a guide note in place: its class or pair and its text; 409 when another note has that class or pair.");
        group.MapDelete("/{id:long}", Delete).WithName("DeleteGuideNote").RequireAuthorization(Policies.Admin)
            .WithSummary("Delete a guide note.");
        return group;
    }

    private const string NoteSelect = "select id, wnid, other_wnid, body, updated_at from guide_notes";

    /// <param name="wnid">Only notes about this class (its own note and the pairs it is part of).</param>
    public static async Task<Ok<GuideNote[]>> List(NpgsqlDataSource db, string? wnid = null)
    {
        await using var connection = await db.OpenConnectionAsync();
        var notes = await connection.QueryAsync<GuideNote>(
            NoteSelect + " where @wnid::text is null or wnid = @wnid or other_wnid = @wnid order by wnid, other_wnid nulls first",
            new { wnid });
        return TypedResults.Ok(notes.ToArray());
    }

    /// <summary>Pairs are stored once, with the smaller wnid first.</summary>
    private static (string Wnid, string? Other) Ordered(PutGuideNoteRequest request) =>
        request.OtherWnid is { } o && string.CompareOrdinal(o, request.Wnid) < 0 ? (o, request.Wnid) : (request.Wnid, request.OtherWnid);

    private static async Task<ProblemHttpResult?> UnknownClassAsync(NpgsqlConnection connection, string wnid, string? other)
    {
        var unknown = (await connection.QueryAsync<string>(
            "select w from unnest(@wnids::text[]) w where not exists (select 1 from synsets s where s.wnid = w)",
            new { wnids = new[] { wnid, other }.OfType<string>().ToArray() })).ToList();
        return unknown.Count > 0 ? Problems.Unprocessable("Unknown class", "wnid", $"'{unknown[0]}' is not a WordNet noun synset.") : null;
    }

    public static async Task<Results<Ok<GuideNote>, ProblemHttpResult>> Put(
        PutGuideNoteRequest request, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        var (wnid, other) = Ordered(request);
        await using var connection = await db.OpenConnectionAsync();
        if (await UnknownClassAsync(connection, wnid, other) is { } unknown) return unknown;
        var note = await connection.QuerySingleAsync<GuideNote>(
            """
            insert into guide_notes (wnid, other_wnid, body, updated_by) values (@wnid, @other, @Body, @me)
            on conflict (wnid, coalesce(other_wnid, '')) do update
            set body = excluded.body, updated_by = excluded.updated_by, updated_at = now()
            returning id, wnid, other_wnid, body, updated_at
            """,
            new { wnid, other, request.Body, me = user.UserId() });
        return TypedResults.Ok(note);
    }

    public static async Task<Results<Ok<GuideNote>, ProblemHttpResult>> Update(
        long id, PutGuideNoteRequest request, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        var (wnid, other) = Ordered(request);
        await using var connection = await db.OpenConnectionAsync();
        if (await UnknownClassAsync(connection, wnid, other) is { } unknown) return unknown;
        // One statement: no row means no such note (404); another note on the same class or pair is a unique violation (409).
        var note = await connection.QuerySingleOrDefaultAsync<GuideNote>(
            """
            update guide_notes set wnid = @wnid, other_wnid = @other, body = @Body, updated_by = @me, updated_at = now()
            where id = @id
            returning id, wnid, other_wnid, body, updated_at
            """,
            new { id, wnid, other, request.Body, me = user.UserId() });
        return note is null ? Problems.NotFound($"Guide note {id} does not exist.") : TypedResults.Ok(note);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(NpgsqlDataSource db, long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        var deleted = await connection.ExecuteAsync("delete from guide_notes where id = @id", new { id });
        return deleted == 0 ? Problems.NotFound($"Guide note {id} does not exist.") : TypedResults.NoContent();
    }
}
