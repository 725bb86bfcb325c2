using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;

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

    /// <summary>
    /// Receives the whole body before any database work: a body in memory up to 8 MiB, beyond that in a temporary file
    /// (deleted with the request). A client that sends slowly then holds a buffer, never a pooled connection or an open
    /// transaction; what follows reads from local storage at full speed. Returns the body, positioned at its start.
    /// </summary>
    public static async Task<Stream> ReceiveAsync(HttpRequest request, long maxBytes, CancellationToken ct)
    {
        request.EnableBuffering(bufferThreshold: 8 * 1024 * 1024, bufferLimit: maxBytes);
        await request.Body.DrainAsync(ct);
        request.Body.Position = 0;
        return request.Body;
    }
}
