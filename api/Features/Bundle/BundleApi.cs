using Relabel.Api.Features.Predictions;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Bundle;

/// <summary>
/// The portable bundle: a dataset with everything that grades it (label space, images without pixels, subsets, image
/// sets, reference labels, models, predictions, every verdict and flag event, label versions, guide notes), exported
/// as a .tar.gz with checksums and imported whole (checked first, then written by a job in one transaction).
/// </summary>
public static class BundleApi
{
    public static void MapBundle(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/datasets/{slug}").WithTags("Interop").WithValidation().AfterPredictionFollowups();
        group.MapGet("/export/bundle", BundleExporter.ExportAsync).WithName("ExportBundle").RequireAuthorization(Policies.Admin)
            .Produces<Stream>(200, BundleFormat.ContentType)
            .WithSummary("The portable bundle (.tar.gz) of the dataset, its shift partners and the datasets named by 'with': label space, images (no pixels), subsets, image sets, reference labels, models, predictions, every verdict and flag event, label versions and guide notes, with a manifest of SHA-256 checksums.");
        routes.MapPost("/api/import/bundle", BundleImporter.ImportAsync).WithTags("Interop").WithName("ImportBundle").RequireAuthorization(Policies.Admin)
            .RawBody("A bundle from GET /api/datasets/{slug}/export/bundle (application/gzip: .tar.gz; application/x-tar: .tar).", BundleFormat.ContentType, "application/x-tar")
            .WithSummary("Import a portable bundle: checked whole first (422 with files and lines, nothing written), then written by a job in one transaction; what exists already is matched, not duplicated, and the same content again is a no-op.");
    }
}
