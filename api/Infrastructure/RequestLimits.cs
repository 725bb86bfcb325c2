using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Relabel.Api.Infrastructure;

public static class RequestLimits
{
    /// <summary>Sets the body limit for this request; a declared length over it is refused at once with 413.</summary>
    public static ProblemHttpResult? Apply(HttpContext context, long maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
            return TypedResults.Problem(title: "Request body too large", statusCode: 413,
                detail: $"The body has {context.Request.ContentLength} bytes; the limit is {maxBytes}.");
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = maxBytes;
        return null;
    }
}
