using System.Reflection;
using FluentValidation;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Relabel.Api.Infrastructure;

/// <summary>
/// Runs the FluentValidation validator of every handler argument that has one, before the handler: a fault is a 422
/// problem+json whose errors are {line, field, message}, the shape of every input error (line 0: a JSON body has none).
/// </summary>
public static class Validation
{
    /// <summary>Validates the arguments of every endpoint of the group (those without a validator cost nothing).</summary>
    public static TBuilder WithValidation<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // Last, so that the 422 follows the responses the handler declares.
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<MethodInfo>().FirstOrDefault() is not { } method) return;
            if (!method.GetParameters().Any(p => ValidatorType(endpoint.ApplicationServices, p.ParameterType) is not null)) return;
            endpoint.Metadata.Add(new ProducesResponseTypeMetadata(
                StatusCodes.Status422UnprocessableEntity, typeof(ProblemDetails), ["application/problem+json"]));
        });
        builder.AddEndpointFilterFactory((context, next) =>
        {
            var validated = context.MethodInfo.GetParameters()
                .Select((p, i) => (Index: i, Validator: ValidatorType(context.ApplicationServices, p.ParameterType)))
                .Where(v => v.Validator is not null)
                .ToList();
            if (validated.Count == 0) return next;
            return async invocation =>
            {
                var errors = new LineErrors();
                foreach (var (index, validatorType) in validated)
                {
                    if (invocation.Arguments[index] is not { } argument) continue;
                    // Validators are scoped services: resolved per request.
                    var validator = (IValidator)invocation.HttpContext.RequestServices.GetRequiredService(validatorType!);
                    var result = await validator.ValidateAsync(new ValidationContext<object>(argument), invocation.HttpContext.RequestAborted);
                    foreach (var failure in result.Errors) errors.Add(0, JsonPath(failure.PropertyName), failure.ErrorMessage);
                }
                return errors.Any ? errors.ToProblem("Invalid request") : await next(invocation);
            };
        });
        return builder;
    }

    /// <summary>A property path as the JSON body names it: "Verdicts[0].Verdict" is "verdicts[0].verdict".</summary>
    private static string JsonPath(string path) =>
        string.Join('.', path.Split('.').Select(p => p.Length == 0 ? p : char.ToLowerInvariant(p[0]) + p[1..]));

    /// <summary>IValidator&lt;T&gt; when one is registered for the parameter type (asked of the root without resolving it).</summary>
    private static Type? ValidatorType(IServiceProvider services, Type type)
    {
        if (!type.IsClass || type == typeof(string) || type.IsAbstract) return null;
        var validatorType = typeof(IValidator<>).MakeGenericType(type);
        return services.GetService<IServiceProviderIsService>()?.IsService(validatorType) == true ? validatorType : null;
    }
}
