using System.Text.Json.Serialization;
using FluentValidation;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.FileProviders;
using Relabel.Api.Features.Accounts;
using Relabel.Api.Features.Aggregation;
using Relabel.Api.Features.Bundle;
using Relabel.Api.Features.Datasets;
using Relabel.Api.Features.Demo;
using Relabel.Api.Features.Health;
using Relabel.Api.Features.Images;
using Relabel.Api.Features.Interop;
using Relabel.Api.Features.Jobs;
using Relabel.Api.Features.Labeling;
using Relabel.Api.Features.Leaderboard;
using Relabel.Api.Features.Models;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Features.Review;
using Relabel.Api.Features.Synsets;
using Relabel.Api.Infrastructure;

// Commands share the services of the server but not its command line: "import-images …", "openapi FILE".
var command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : null;
var builder = WebApplication.CreateBuilder(command is null ? args : []);

var options = builder.Configuration.GetSection("Relabel").Get<RelabelOptions>() ?? new RelabelOptions();
if (options.RepositoryRoot.Length == 0) options.RepositoryRoot = RepositoryRoot.Find(builder.Environment.ContentRootPath);
builder.Services.Configure<RelabelOptions>(builder.Configuration.GetSection("Relabel"));
builder.Services.PostConfigure<RelabelOptions>(o => o.RepositoryRoot = options.RepositoryRoot);

// Structured logs: one JSON object per line, with the request id and trace id of each request in scope.
builder.Logging.ClearProviders();
builder.Logging.AddJsonConsole(o =>
{
    o.IncludeScopes = true;
    o.UseUtcTimestamp = true;
    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
});
// Boards are counted with Parallel.For on pool threads: enough threads at once that a request is not queued behind a
// computation while the pool grows slowly (cached board reads stayed at seconds under a flood of new variants).
ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
ThreadPool.SetMinThreads(Math.Max(minWorkers, 4 * Environment.ProcessorCount + 8), minIo);
// Graceful shutdown: SIGTERM stops accepting connections and lets in-flight requests finish.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

// Cookies and anti-forgery tokens are protected with this key ring: API processes behind one proxy must share it.
var keyRing = builder.Services.AddDataProtection().SetApplicationName("Relabel");
if (options.DataProtectionKeysPath.Length > 0)
    keyRing.PersistKeysToFileSystem(new DirectoryInfo(options.ResolvePath(options.DataProtectionKeysPath)));

builder.AddRelabelDatabase();
builder.Services.AddRelabelProblemDetails();
builder.Services.AddRelabelAuth(options);
builder.Services.AddSingleton<TokenCache>();
builder.Services.AddSingleton<Sessions>();
builder.Services.AddSingleton<SignInThrottle>();
// On a read replica nothing listens (LISTEN is refused during recovery): tokens are then checked in the database each time.
if (!options.ReadReplica) builder.Services.AddHostedService(sp => sp.GetRequiredService<TokenCache>());
builder.Services.AddRelabelOpenApi();
builder.Services.AddValidatorsFromAssemblyContaining<Program>();
builder.Services.AddSingleton<IPasswordHasher<string>, PasswordHasher<string>>();
// Labeling times read this clock; tests replace it.
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<ImageStore>();
builder.Services.AddRelabelJobs(workers: !options.ReadReplica);
builder.Services.AddPredictionFollowups(worker: !options.ReadReplica);
builder.Services.AddSingleton<PredictionTargetsCache>();
builder.Services.AddSingleton<PredictionsCache>();
builder.Services.AddSingleton<Pseudonyms>();
builder.Services.AddSingleton<ScoringStore>();
// The review page counts the models' top-1 votes from the leaderboard's predictions in memory.
builder.Services.AddSingleton<ITop1Votes>(sp => sp.GetRequiredService<ScoringStore>());
builder.Services.AddSingleton<LeaderboardService>();
builder.Services.AddHostedService<IntervalWarmup>();
// Start-up steps after the migrations (Bootstrap runs them in their order): WordNet, the first admin, the demo.
builder.Services.AddStartupStep<WordNetStep>();
builder.Services.AddStartupStep<AdminAccountStep>();
builder.Services.AddDemo();
// Binding failures reach ApiExceptionHandler, which names the parameter and JSON position at fault.
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
    // Request documents are shallow; a deeper one is refused (400) before it costs anything.
    o.SerializerOptions.MaxDepth = 32;
});

var app = builder.Build();

app.UseKnownProxies(options);
app.UseExceptionHandler();
app.UseStatusCodePages();
app.Use(async (context, next) =>
{
    // The SPA loads only its own scripts; user text is never markup.
    context.Response.Headers.TryAdd("Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'");
    context.Response.Headers.TryAdd("X-Content-Type-Options", "nosniff");
    await next(context);
});

if (options.ReadReplica)
{
    app.Logger.LogInformation("Serving reads from a replica (Relabel:ReadReplica): writes are refused");
    app.Use(async (context, next) =>
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) { await next(context); return; }
        await TypedResults.Problem(title: "Read-only replica", statusCode: StatusCodes.Status503ServiceUnavailable,
            detail: "This API process reads from a database replica and accepts no writes: send writes (and sign-in) to the primary's processes.")
            .ExecuteAsync(context);
    });
}

var webRoot = options.ResolvePath(options.WebRoot);
var spaFiles = Directory.Exists(webRoot) ? new PhysicalFileProvider(webRoot) : null;
if (spaFiles is not null)
{
    app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = spaFiles });
    app.UseStaticFiles(new StaticFileOptions { FileProvider = spaFiles });
}
else app.Logger.LogWarning("The SPA is not built ({WebRoot} is missing): run 'make web'", webRoot);

app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.UseCsrfProtection();

app.UseSwagger(o => o.RouteTemplate = "swagger/{documentName}/swagger.{extension:regex(^(json|ya?ml)$)}");
app.UseSwaggerUI();

app.MapHealth();
app.MapAccounts();
app.MapSynsets();
app.MapDatasets();
app.MapImages();
app.MapJobs();
app.MapInterop();
app.MapBundle();
app.MapAggregation();
app.MapLeaderboard();
app.MapModels();
app.MapPredictions();
app.MapReview();
app.MapGuideNotes();
app.MapGuide();
app.MapLabeling();

app.MapFallback("/api/{**path}", (string path) => Problems.NotFound($"There is no endpoint /api/{path}."))
    .ExcludeFromDescription();
if (spaFiles is not null)
    app.MapFallbackToFile("index.html", new StaticFileOptions { FileProvider = spaFiles });

if (command == "openapi")
{
    // The API explorer sees the endpoints once the pipeline is built, that is when the host starts.
    app.Urls.Add("http://127.0.0.1:0");
    await app.StartAsync();
    var path = options.ResolvePath(args.Length > 1 ? args[1] : "openapi.yaml");
    await File.WriteAllTextAsync(path, await OpenApi.YamlAsync(app.Services));
    await app.StopAsync();
    Console.WriteLine($"Wrote {path}");
    return;
}

if (command == "import-images")
{
    await Bootstrap.RunAsync(app);
    Environment.ExitCode = await ImportImagesCommand.RunAsync(app.Services, args[1..]);
    return;
}
if (command == "demo-zoo")
{
    await Bootstrap.RunAsync(app);
    Environment.ExitCode = await ZooCommand.RunAsync(app, args[1..]);
    return;
}
if (command is not null)
{
    Console.Error.WriteLine($"Unknown command '{command}'. Commands: import-images, demo-zoo, openapi.");
    Environment.ExitCode = 2;
    return;
}

await Bootstrap.RunAsync(app);
app.Run();

public partial class Program;
