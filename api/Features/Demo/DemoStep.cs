using Microsoft.Extensions.Options;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Demo;

/// <summary>
/// With Relabel:Demo, the demo's accounts, datasets, predictions and verdicts, each seeded once. Without it, a production
/// server keeps no demo account that could sign in.
/// </summary>
public sealed class DemoStep(
    DemoSeeder demo, DemoPredictionsSeeder predictions, DemoVerdictsSeeder verdicts, IOptions<RelabelOptions> options, IHostEnvironment environment)
    : IStartupStep
{
    public int Order => 300;

    public async Task RunAsync(CancellationToken ct)
    {
        if (!options.Value.Demo)
        {
            if (environment.IsProduction()) await demo.DisableAccountsAsync();
            return;
        }
        await demo.EnsureAccountsAsync();
        await demo.SeedIfMissingAsync();
        await predictions.SeedIfMissingAsync();
        await verdicts.SeedIfMissingAsync();
    }
}

public static class DemoServices
{
    /// <summary>The demo's seeders and the start-up step that runs them.</summary>
    public static IServiceCollection AddDemo(this IServiceCollection services) =>
        services.AddSingleton<DemoSeeder>().AddSingleton<DemoPredictionsSeeder>().AddSingleton<DemoVerdictsSeeder>()
            .AddStartupStep<DemoStep>();
}
