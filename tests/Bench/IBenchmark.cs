namespace Relabel.Bench;

/// <summary>One benchmark; every class implementing it is found and run by Program (no list to edit).</summary>
public interface IBenchmark
{
    /// <summary>Short, unique, lowercase: names the database and filters on the command line.</summary>
    string Name { get; }

    /// <summary>Runs against a fresh database and API process; reports figures with <see cref="BenchContext.Report"/>.</summary>
    Task RunAsync(BenchContext context);
}
