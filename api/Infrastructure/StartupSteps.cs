namespace Relabel.Api.Infrastructure;

/// <summary>
/// Work a feature needs done after the migrations and before the server answers (WordNet, the first admin, the demo).
/// Each step is a no-op once done. Features register theirs with <see cref="StartupSteps.AddStartupStep{TStep}"/>;
/// <see cref="Bootstrap"/> runs them in ascending <see cref="Order"/>.
/// </summary>
public interface IStartupStep
{
    /// <summary>Steps that others build on come first (WordNet before the demo's classes, say).</summary>
    int Order { get; }

    Task RunAsync(CancellationToken ct);
}

public static class StartupSteps
{
    public static IServiceCollection AddStartupStep<TStep>(this IServiceCollection services) where TStep : class, IStartupStep =>
        services.AddSingleton<IStartupStep, TStep>();
}
