using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Relabel.Api.Infrastructure;

/// <summary>One fault in a request body: the line (or row) and field where it is, and what is wrong.</summary>
public sealed record LineError(long Line, string Field, string Message)
{
    /// <summary>The file of a body made of several files (a bundle); absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? File { get; init; }
}

/// <summary>Collects line errors, keeping the first <see cref="Limit"/> and counting all of them.</summary>
public sealed class LineErrors
{
    public const int Limit = 100;
    private readonly List<LineError> _errors = [];

    public long Count { get; private set; }
    public bool Any => Count > 0;
    public IReadOnlyList<LineError> First => _errors;

    public void Add(long line, string field, string message) => Add(null, line, field, message);

    /// <summary>A fault in one file of a body made of several files.</summary>
    public void Add(string? file, long line, string field, string message)
    {
        Count++;
        if (_errors.Count < Limit) _errors.Add(new LineError(line, field, message) { File = file });
    }

    /// <summary>For checks that list only the first errors but count them all.</summary>
    public void CountAtLeast(long total) => Count = Math.Max(Count, total);

    public ProblemHttpResult ToProblem(string title, int status = StatusCodes.Status422UnprocessableEntity) =>
        Problems.Lines(title, this, status);
}

public static class Problems
{
    public static void AddRelabelProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions["traceId"] =
                Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
    }

    public static ProblemHttpResult Lines(string title, LineErrors errors, int status = StatusCodes.Status422UnprocessableEntity) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = errors.Count > errors.First.Count
                ? $"{errors.Count} errors; the first {errors.First.Count} are listed."
                : $"{errors.Count} error(s).",
            Extensions = { ["errors"] = errors.First.OrderBy(e => e.File, StringComparer.Ordinal).ThenBy(e => e.Line).ToList(), ["errorCount"] = errors.Count },
        });

    public static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status409Conflict);

    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(title: "Not found", detail: what, statusCode: StatusCodes.Status404NotFound);

    /// <summary>One input error, in the shape of every input error: errors [{line, field, message}] (line 0: none).</summary>
    public static ProblemHttpResult Unprocessable(string title, string field, string message)
    {
        var errors = new LineErrors();
        errors.Add(0, field, message);
        return TypedResults.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = title,
            Detail = message,
            Extensions = { ["errors"] = errors.First.ToList(), ["errorCount"] = errors.Count },
        });
    }
}

/// <summary>Turns exceptions into problem+json: client faults keep their status, the database being down is a 503.</summary>
public sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = Classify(exception);
        if (status >= 500)
            logger.LogError(exception, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    private static (int Status, string Title, string? Detail) Classify(Exception exception) => exception switch
    {
        BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge =>
            (413, "Request body too large", bad.Message),
        BadHttpRequestException bad => (bad.StatusCode, "Bad request", Describe(bad)),
        JsonException json => (400, "Malformed JSON", json.Message),
        // A body sent as gzip that is not, or is cut short.
        InvalidDataException data => (400, "Malformed compressed body", data.Message),
        System.Text.DecoderFallbackException or InvalidOperationException { InnerException: System.Text.DecoderFallbackException } =>
            (400, "Body is not valid UTF-8", exception.InnerException?.Message ?? exception.Message),
        // Text PostgreSQL cannot store (a NUL character): the client's fault, not the server's.
        PostgresException { SqlState: PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter } pg =>
            (422, "Text contains a character that cannot be stored", pg.MessageText),
        AntiforgeryValidationException => (403, "Missing or invalid anti-forgery token",
            "Cookie-authenticated writes need the X-CSRF-Token header from GET /api/auth/csrf."),
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg =>
            (409, "Conflict with an existing record", pg.ConstraintName),
        PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation } pg =>
            (409, "Conflict with a related record", pg.ConstraintName),
        PostgresException { SqlState: PostgresErrorCodes.CheckViolation } pg =>
            (422, "A value is out of range", pg.ConstraintName),
        NpgsqlException { InnerException: TimeoutException } or NpgsqlException { IsTransient: true } or
            PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CannotConnectNow } =>
            (503, "Database unavailable", "The database cannot be reached; try again shortly."),
        NpgsqlException { InnerException: System.Net.Sockets.SocketException } =>
            (503, "Database unavailable", "The database cannot be reached; try again shortly."),
        OperationCanceledException => (499, "Request cancelled", null),
        _ => (500, "Internal server error", null),
    };

    // The binder's message names the parameter; the inner JSON exception names the path and line.
    private static string Describe(BadHttpRequestException bad) =>
        bad.InnerException is JsonException json ? $"{bad.Message} {json.Message}" : bad.Message;
}
