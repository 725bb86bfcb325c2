using System.Security.Claims;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Models;

public static class ModelKinds
{
    /// <summary>Trained on ImageNet-1k only.</summary>
    public const string Model = "model";
    /// <summary>Trained with more data than ImageNet-1k.</summary>
    public const string ModelExtraData = "model-extra-data";
    public const string Human = "human";
    public const string Ensemble = "ensemble";
    public static readonly string[] All = [Model, ModelExtraData, Human, Ensemble];
}

public static class ModelTags
{
    /// <summary>Predictions generated to match published figures (make demo-zoo), not made by the model itself.</summary>
    public const string Synthetic = "synthetic";
}

/// <param name="Kind">model (ImageNet-1k only), model-extra-data, human or ensemble.</param>
/// <param name="TrainingData">A short tag for the training data, e.g. "imagenet-1k" or "jft-300m".</param>
public sealed record CreateModelRequest(
    string Slug,
    string DisplayName,
    string Kind,
    string? Description,
    string? PaperUrl,
    string? CodeUrl,
    long? ParameterCount,
    string? TrainingData,
    string[]? Tags);

/// <summary>Fields left out (null) keep their value; an empty string clears a URL.</summary>
public sealed record UpdateModelRequest(
    string? DisplayName,
    string? Kind,
    string? Description,
    string? PaperUrl,
    string? CodeUrl,
    long? ParameterCount,
    string? TrainingData,
    string[]? Tags);

public sealed record ModelResponse
{
    public required string Slug { get; init; }
    public required string DisplayName { get; init; }
    public required string Kind { get; init; }
    public required string Description { get; init; }
    public required string? PaperUrl { get; init; }
    public required string? CodeUrl { get; init; }
    public required long? ParameterCount { get; init; }
    public required string TrainingData { get; init; }
    public required string[] Tags { get; init; }
    public required string Owner { get; init; }
    /// <summary>The datasets this model has predictions on.</summary>
    public required string[] Datasets { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

internal static class ModelRules
{
    public const string SlugPattern = "^[a-z0-9][a-z0-9._-]{0,99}$";
    public const string TagPattern = "^[a-z0-9][a-z0-9._+-]{0,49}$";

    /// <summary>
    /// "human-&lt;name&gt;" is the model of a labeler's evaluation answers (published by the labeling feature): only admins
    /// may create or change one, so that no uploader can squat a labeler's name or write into their model.
    /// </summary>
    public const string HumanPrefix = "human-";

    public static bool IsReserved(string slug) => slug.StartsWith(HumanPrefix, StringComparison.Ordinal);

    /// <summary>Whether the caller may change the model: its owner or an admin, and for human- models only an admin.</summary>
    public static bool MayChange(ClaimsPrincipal user, string slug, long ownerId) =>
        user.IsInRole(Roles.Admin) || (!IsReserved(slug) && user.UserId() == ownerId);

    public static bool IsHttpUrl(string? url) =>
        string.IsNullOrEmpty(url) ||
        (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps));
}

public sealed class CreateModelValidator : AbstractValidator<CreateModelRequest>
{
    public CreateModelValidator()
    {
        RuleFor(r => r.Slug).NotEmpty().Matches(ModelRules.SlugPattern)
            .WithMessage("slug: lowercase letters, digits, '.', '_' and '-', at most 100 characters.");
        RuleFor(r => r.DisplayName).NotEmpty().MaximumLength(200);
        RuleFor(r => r.Kind).Must(ModelKinds.All.Contains).WithMessage("kind: one of model, model-extra-data, human, ensemble.");
        RuleFor(r => r.Description).MaximumLength(20_000);
        RuleFor(r => r.PaperUrl).MaximumLength(2000).Must(ModelRules.IsHttpUrl).WithMessage("paperUrl: an http(s) URL.");
        RuleFor(r => r.CodeUrl).MaximumLength(2000).Must(ModelRules.IsHttpUrl).WithMessage("codeUrl: an http(s) URL.");
        RuleFor(r => r.ParameterCount).GreaterThanOrEqualTo(0);
        RuleFor(r => r.TrainingData).MaximumLength(200);
        RuleFor(r => r.Tags).Must(t => t is null || t.Length <= 20).WithMessage("tags: at most 20.");
        RuleForEach(r => r.Tags).Matches(ModelRules.TagPattern)
            .WithMessage("tags: lowercase letters, digits, '.', '_', '+' and '-', at most 50 characters.");
    }
}

public sealed class UpdateModelValidator : AbstractValidator<UpdateModelRequest>
{
    public UpdateModelValidator()
    {
        RuleFor(r => r.DisplayName).NotEmpty().MaximumLength(200).When(r => r.DisplayName is not null);
        RuleFor(r => r.Kind).Must(ModelKinds.All.Contains).When(r => r.Kind is not null)
            .WithMessage("kind: one of model, model-extra-data, human, ensemble.");
        RuleFor(r => r.Description).MaximumLength(20_000);
        RuleFor(r => r.PaperUrl).MaximumLength(2000).Must(ModelRules.IsHttpUrl).WithMessage("paperUrl: an http(s) URL.");
        RuleFor(r => r.CodeUrl).MaximumLength(2000).Must(ModelRules.IsHttpUrl).WithMessage("codeUrl: an http(s) URL.");
        RuleFor(r => r.ParameterCount).GreaterThanOrEqualTo(0);
        RuleFor(r => r.TrainingData).MaximumLength(200);
        RuleFor(r => r.Tags).Must(t => t is null || t.Length <= 20).WithMessage("tags: at most 20.");
        RuleForEach(r => r.Tags).Matches(ModelRules.TagPattern)
            .WithMessage("tags: lowercase letters, digits, '.', '_', '+' and '-', at most 50 characters.");
    }
}

public static class ModelsApi
{
    public static RouteGroupBuilder MapModels(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/models").WithTags("Models").WithValidation();
        group.MapGet("/", List).WithName("ListModels").WithSummary("Every model, optionally of one kind or with one tag.");
        group.MapGet("/{slug}", Get).WithName("GetModel").WithSummary("One model.");
        group.MapPost("/", Create).WithName("CreateModel").RequireAuthorization(Policies.Uploader)
            .WithSummary("Register a model (or a human, or an ensemble); the caller owns it.");
        group.MapPatch("/{slug}", Update).WithName("UpdateModel").RequireAuthorization(Policies.Uploader)
            .WithSummary("Change a model's description fields (its owner or an admin).");
        group.MapDelete("/{slug}", Delete).WithName("DeleteModel").RequireAuthorization(Policies.Uploader)
            .WithSummary("Delete a model and its predictions (its owner or an admin); reviewers' verdicts stay.");
        return group;
    }

    internal const string ModelSelect =
        """
        select m.slug, m.display_name, m.kind, m.description, m.paper_url, m.code_url, m.parameter_count,
               m.training_data, m.tags, u.name as owner,
               array(select d.slug from prediction_sets s join datasets d on d.id = s.dataset_id
                     where s.model_id = m.id order by d.slug) as datasets,
               m.created_at, m.updated_at
        from models m
        join users u on u.id = m.owner_id
        """;

    /// <param name="kind">Only models of this kind (model, model-extra-data, human, ensemble).</param>
    /// <param name="tag">Only models with this tag.</param>
    public static async Task<Ok<ModelResponse[]>> List(NpgsqlDataSource db, string? kind = null, string? tag = null)
    {
        await using var connection = await db.OpenConnectionAsync();
        var rows = await connection.QueryAsync<ModelResponse>(
            ModelSelect +
            """

            where (@kind::text is null or m.kind = @kind)
              and (@tag::text is null or m.tags @> array[@tag::text])
            order by m.slug
            """,
            new { kind, tag });
        return TypedResults.Ok(rows.ToArray());
    }

    public static async Task<Results<Ok<ModelResponse>, ProblemHttpResult>> Get(NpgsqlDataSource db, string slug)
    {
        await using var connection = await db.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<ModelResponse>(ModelSelect + " where m.slug = @slug", new { slug });
        return row is null ? Problems.NotFound($"Model '{slug}' does not exist.") : TypedResults.Ok(row);
    }

    public static async Task<Results<Created<ModelResponse>, ProblemHttpResult>> Create(
        CreateModelRequest request, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        if (ModelRules.IsReserved(request.Slug) && !user.IsInRole(Roles.Admin)) return Reserved(request.Slug);

        await using var connection = await db.OpenConnectionAsync();
        var id = await connection.ExecuteScalarAsync<long?>(
            """
            insert into models (slug, display_name, kind, description, paper_url, code_url, parameter_count, training_data, tags, owner_id)
            values (@Slug, @DisplayName, @Kind, @description, @paperUrl, @codeUrl, @ParameterCount, @trainingData, @tags, @ownerId)
            on conflict (slug) do nothing
            returning id
            """,
            new
            {
                request.Slug,
                request.DisplayName,
                request.Kind,
                description = request.Description ?? "",
                paperUrl = NullIfEmpty(request.PaperUrl),
                codeUrl = NullIfEmpty(request.CodeUrl),
                request.ParameterCount,
                trainingData = request.TrainingData ?? "",
                tags = (request.Tags ?? []).Distinct().ToArray(),
                ownerId = user.UserId(),
            });
        if (id is null) return Problems.Conflict("Model exists", $"A model with slug '{request.Slug}' already exists.");
        var created = await connection.QuerySingleAsync<ModelResponse>(ModelSelect + " where m.id = @id", new { id });
        return TypedResults.Created($"/api/models/{created.Slug}", created);
    }

    public static async Task<Results<Ok<ModelResponse>, ProblemHttpResult>> Update(
        string slug, UpdateModelRequest request, ClaimsPrincipal user, NpgsqlDataSource db)
    {

        await using var connection = await db.OpenConnectionAsync();
        var id = await connection.ExecuteScalarAsync<long?>(
            """
            update models set
                display_name = coalesce(@DisplayName, display_name),
                kind = coalesce(@Kind, kind),
                description = coalesce(@Description, description),
                paper_url = case when @PaperUrl::text is null then paper_url else nullif(@PaperUrl, '') end,
                code_url = case when @CodeUrl::text is null then code_url else nullif(@CodeUrl, '') end,
                parameter_count = coalesce(@ParameterCount, parameter_count),
                training_data = coalesce(@TrainingData, training_data),
                tags = coalesce(@tags, tags),
                updated_at = now()
            where slug = @slug and ((owner_id = @userId and not starts_with(slug, @reserved)) or @isAdmin)
            returning id
            """,
            new
            {
                slug,
                request.DisplayName,
                request.Kind,
                request.Description,
                request.PaperUrl,
                request.CodeUrl,
                request.ParameterCount,
                request.TrainingData,
                tags = request.Tags?.Distinct().ToArray(),
                userId = user.UserId(),
                isAdmin = user.IsInRole(Roles.Admin),
                reserved = ModelRules.HumanPrefix,
            });
        if (id is null) return await NotFoundOrForbiddenAsync(connection, slug);
        return TypedResults.Ok(await connection.QuerySingleAsync<ModelResponse>(ModelSelect + " where m.id = @id", new { id }));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string slug, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        // Uploads, current sets and predictions cascade; review items belong to images, not to models.
        var deleted = await connection.ExecuteAsync(
            "delete from models where slug = @slug and ((owner_id = @userId and not starts_with(slug, @reserved)) or @isAdmin)",
            new { slug, userId = user.UserId(), isAdmin = user.IsInRole(Roles.Admin), reserved = ModelRules.HumanPrefix });
        return deleted == 0 ? await NotFoundOrForbiddenAsync(connection, slug) : TypedResults.NoContent();
    }

    /// <summary>After a write guarded by ownership touched no row: the model is absent (404) or someone else's (403).</summary>
    internal static async Task<ProblemHttpResult> NotFoundOrForbiddenAsync(NpgsqlConnection connection, string slug)
    {
        var exists = await connection.ExecuteScalarAsync<bool>("select exists (select 1 from models where slug = @slug)", new { slug });
        return exists ? Forbidden(slug) : Problems.NotFound($"Model '{slug}' does not exist.");
    }

    internal static ProblemHttpResult Forbidden(string slug) =>
        ModelRules.IsReserved(slug)
            ? Reserved(slug)
            : TypedResults.Problem(title: "Not your model", statusCode: StatusCodes.Status403Forbidden,
                detail: $"Only the owner of '{slug}' or an admin may change it.");

    private static ProblemHttpResult Reserved(string slug) =>
        TypedResults.Problem(title: "A labeler's model", statusCode: StatusCodes.Status403Forbidden,
            detail: $"'{slug}': models named {ModelRules.HumanPrefix}<name> hold a labeler's evaluation answers; only admins create or change them.");

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
