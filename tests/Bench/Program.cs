using System.Reflection;
using Relabel.Bench;

// Runs every IBenchmark of this assembly (or those whose name contains an argument), each against its own
// database and API process, and prints "bench: <figure> = <value>" lines.
// The API's ordinary role (the API and the benchmarks' own queries), and the superuser that only creates and drops the
// benchmarks' databases; "make bench" passes both (db/cluster.sh connection, admin-connection).
var connectionString = Environment.GetEnvironmentVariable("RELABEL_BENCH_PG")
    ?? throw new InvalidOperationException("RELABEL_BENCH_PG is not set: run the benchmarks with 'make bench'.");
var adminConnectionString = Environment.GetEnvironmentVariable("RELABEL_BENCH_PG_ADMIN")
    ?? throw new InvalidOperationException("RELABEL_BENCH_PG_ADMIN is not set: run the benchmarks with 'make bench'.");
var benchmarks = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .Where(b => args.Length == 0 ? b is not IExplicitBenchmark : args.Any(a => b.Name.Contains(a, StringComparison.OrdinalIgnoreCase)))
    .OrderBy(b => b.Name)
    .ToList();
if (benchmarks.Count == 0)
{
    Console.Error.WriteLine("No benchmark matches.");
    return 2;
}

var failed = 0;
foreach (var benchmark in benchmarks)
{
    Console.WriteLine($"bench: running {benchmark.Name}");
    using var timeout = new CancellationTokenSource(benchmark is ILongBenchmark bounded ? bounded.Limit : TimeSpan.FromMinutes(10));
    try
    {
        await using var context = await BenchContext.StartAsync(connectionString, adminConnectionString, benchmark.Name, timeout.Token);
        await benchmark.RunAsync(context);
    }
    catch (Exception e)
    {
        failed++;
        Console.Error.WriteLine($"bench: {benchmark.Name} failed: {e}");
    }
}
return failed == 0 ? 0 : 1;
