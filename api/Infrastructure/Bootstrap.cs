using Microsoft.Extensions.Options;

namespace Relabel.Api.Infrastructure;

/// <summary>
/// Start-up work, each step a no-op once done: the migrations, then the steps that features register
/// (<see cref="IStartupStep"/>: WordNet, the first admin, the demo), in their order.
/// </summary>
public static class Bootstrap
{
    public static async Task RunAsync(WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Relabel.Bootstrap");
        var options = app.Services.GetRequiredService<IOptions<RelabelOptions>>().Value;
        if (!options.MigrateOnStart || options.ReadReplica)
        {
            logger.LogInformation("Start-up migrations are off (Relabel:MigrateOnStart = false, or a read replica)");
            return;
        }

        Database.Migrate(Database.ConnectionString(app.Configuration), logger);
        foreach (var step in app.Services.GetServices<IStartupStep>().OrderBy(s => s.Order))
            await step.RunAsync(CancellationToken.None);
    }
}
