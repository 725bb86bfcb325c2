using Npgsql;
using Relabel.Api.Features.Labels;

namespace Relabel.Api.Features.Predictions;

/// <summary>A dataset's current prediction set: which upload, with how many labels per image.</summary>
public sealed record UploadHead(long UploadId, int K);

/// <summary>
/// How many of a dataset's current uploads predict each class as an image's top-1 (the review page shows it per label).
/// The leaderboard's scoring store answers from the predictions it holds in memory.
/// </summary>
public interface ITop1Votes
{
    Task<Dictionary<string, int>> Top1VotesAsync(NpgsqlConnection connection, DatasetHead head, IReadOnlyList<UploadHead> uploads, long imageId);
}
