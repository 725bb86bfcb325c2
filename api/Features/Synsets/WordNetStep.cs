using Microsoft.Extensions.Options;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Synsets;

/// <summary>Loads WordNet's nouns on the first start: every label space and the demo name their classes by them.</summary>
public sealed class WordNetStep(NpgsqlDataSource db, IOptions<RelabelOptions> options, ILogger<WordNetStep> logger) : IStartupStep
{
    public int Order => 100;

    public Task RunAsync(CancellationToken ct) => WordNetLoader.LoadIfEmptyAsync(db, options.Value.WordNetPath, logger, ct);
}
