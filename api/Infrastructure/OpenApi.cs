using System.Reflection;
using Microsoft.OpenApi;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Swashbuckle.AspNetCore.Swagger;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Relabel.Api.Infrastructure;

public static class OpenApi
{
    public const string DocumentName = "v1";

    public static void AddRelabelOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "Relabel",
                Version = "v1",
                Description = "Multi-label evaluation of ImageNet classifiers: predictions, expert review, leaderboard.",
            });
            o.IncludeXmlComments(Assembly.GetExecutingAssembly());
            o.AddSecurityDefinition("bearer", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API token from POST /api/users/{name}/tokens.",
            });
            o.OperationFilter<ProblemResponsesFilter>();
            o.OperationFilter<RawBodyFilter>();
            o.SupportNonNullableReferenceTypes();
            o.NonNullableReferenceTypesAsRequired();
        });
    }

    /// <summary>The document as committed in openapi.yaml; the contract test compares against the same text.</summary>
    public static async Task<string> YamlAsync(IServiceProvider services)
    {
        var document = services.GetRequiredService<ISwaggerProvider>().GetSwagger(DocumentName);
        using var buffer = new MemoryStream();
        await document.SerializeAsYamlAsync(buffer, OpenApiSpecVersion.OpenApi3_0);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()).ReplaceLineEndings("\n");
    }
}

/// <summary>
/// Every operation can fail with problem+json; operations that need a role also answer 401 and 403
/// and take the bearer token.
/// </summary>
public sealed class ProblemResponsesFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var problem = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository);
        OpenApiResponse Problem(string description) => new()
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = problem } },
        };
        operation.Responses ??= new OpenApiResponses();
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAuthorizeData>().Any())
        {
            operation.Responses.TryAdd("401", Problem("No credentials, or an unknown, revoked or expired token."));
            operation.Responses.TryAdd("403", Problem("The caller lacks the role, or a cookie-authenticated write lacks X-CSRF-Token."));
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", context.Document)] = [] }];
        }
        operation.Responses.TryAdd("default", Problem("An error as problem+json: title, detail, traceId, and for body errors a list of {line, field, message}."));
    }
}

/// <summary>
/// Documents a body that the handler reads itself (streamed CSV, text, multipart). Unlike Accepts(), it does not
/// constrain routing, so a wrong content type reaches the handler and gets a clear 415.
/// </summary>
public sealed record RawBody(string Description, params string[] ContentTypes);

public static class RawBodyExtensions
{
    public static RouteHandlerBuilder RawBody(this RouteHandlerBuilder builder, string description, params string[] contentTypes) =>
        builder.WithMetadata(new RawBody(description, contentTypes));
}

public sealed class RawBodyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<RawBody>().FirstOrDefault() is not { } body) return;
        operation.RequestBody = new OpenApiRequestBody
        {
            Description = body.Description,
            Required = true,
            Content = body.ContentTypes.ToDictionary(type => type, type => new OpenApiMediaType
            {
                Schema = type == "multipart/form-data"
                    ? new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["files"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                            ["label"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                        },
                    }
                    : type.EndsWith("json")
                        ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } }
                        : new OpenApiSchema { Type = JsonSchemaType.String },
            }),
        };
    }
}
