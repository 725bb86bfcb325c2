namespace Relabel.Api.Infrastructure;

/// <summary>Settings of the "Relabel" configuration section (environment: Relabel__Name).</summary>
public sealed class RelabelOptions
{
    public string WordNetPath { get; set; } = "/usr/share/wordnet/data.noun";

    /// <summary>Content-addressed image store; relative paths are taken from the repository root.</summary>
    public string ImageRoot { get; set; } = ".data/images";

    /// <summary>The compiled SPA; relative paths are taken from the repository root.</summary>
    public string WebRoot { get; set; } = "web/dist";

    /// <summary>ImageNet's terms: images are shown to signed-in users unless this is set.</summary>
    public bool ImagesPublic { get; set; }

    /// <summary>Loads the generated demo datasets and accounts at start-up.</summary>
    public bool Demo { get; set; }

    public long MaxImageBytes { get; set; } = 20 * 1024 * 1024;

    public long MaxManifestBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>Imports (multi-label releases, rater votes): on the wire, and again after decompression.</summary>
    public long MaxImportBytes { get; set; } = 500L * 1024 * 1024;
    /// <summary>Per prediction upload, as sent (compressed or not); a gzipped body may expand to ten times this.</summary>
    public long MaxPredictionBytes { get; set; } = 200 * 1024 * 1024;

    /// <summary>Rows (images) per prediction upload; more is refused with 413 before anything is written.</summary>
    public int MaxRowsPerUpload { get; set; } = 2_000_000;

    /// <summary>The longest line of a line-oriented body (CSV, NDJSON): a longer one is refused (422 naming it) unread.</summary>
    public int MaxLineBytes { get; set; } = 64 * 1024;

    /// <summary>Password sign-ins per client address and minute (all attempts).</summary>
    public int SignInAttemptsPerMinute { get; set; } = 10;

    /// <summary>
    /// Distinct alpha and version values per minute a client may ask the leaderboard for, after a first burst of
    /// <see cref="BoardVariantBurst"/>; the default alpha at the current version is never limited.
    /// </summary>
    public int BoardVariantsPerMinute { get; set; } = 60;

    public int BoardVariantBurst { get; set; } = 20;

    /// <summary>Failed sign-ins per account within <see cref="SignInLockoutMinutes"/>; more are refused (429) until it ends.</summary>
    public int SignInFailuresPerAccount { get; set; } = 10;

    public double SignInLockoutMinutes { get; set; } = 15;

    /// <summary>
    /// Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, comma
    /// separated: the client address that sign-in limits count, and HTTPS for Secure cookies. Empty: no proxy is.
    /// </summary>
    public string KnownProxies { get; set; } = "";

    /// <summary>Always mark cookies Secure (behind a TLS proxy that is not in <see cref="KnownProxies"/>); otherwise they
    /// are Secure when the request is HTTPS.</summary>
    public bool SecureCookies { get; set; }

    /// <summary>The demo accounts' password (tests); unset, each gets a random one, shown once.</summary>
    public string? DemoPassword { get; set; }

    /// <summary>Where generated credentials go when there is no terminal to show them on (readable by this user only).</summary>
    public string InitialSecretsPath { get; set; } = ".data/initial-secrets.txt";

    /// <summary>Show generated credentials on the controlling terminal when there is one (else, and when off: the file).</summary>
    public bool InitialSecretsOnTerminal { get; set; } = true;

    /// <summary>
    /// The leaderboard's in-memory predictions, at most (least recently used go first): 512 MiB holds 1,000 models on
    /// 50,000 images (ten bytes an image each) and their ensembles.
    /// </summary>
    public double PredictionsMemoryMb { get; set; } = 512;

    /// <summary>How long a sign-in cookie lasts without use (sliding).</summary>
    public double SessionMinutes { get; set; } = 12 * 60;

    /// <summary>
    /// Migrate, load WordNet and create the first admin at start-up. Turn off on extra API replicas, so that one
    /// instance (or a deployment step) owns the schema.
    /// </summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>
    /// This process reads from a PostgreSQL streaming replica (a hot standby): it serves reads (boards, model pages,
    /// exports), refuses every write with a 503 that says where writes go, and runs no start-up step and no worker.
    /// </summary>
    public bool ReadReplica { get; set; }

    /// <summary>
    /// The Data Protection key ring (what signs cookies and anti-forgery tokens), shared by every API process behind one
    /// proxy. Empty: ASP.NET Core's default, a folder in the user's profile.
    /// </summary>
    public string DataProtectionKeysPath { get; set; } = "";

    public string RepositoryRoot { get; set; } = "";

    public string ResolvePath(string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(RepositoryRoot, path));
}
