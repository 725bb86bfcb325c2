using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Relabel.Api.Infrastructure;

/// <summary>
/// Sign-in cookies are self-contained, so a cookie alone cannot be revoked: each names its user's security stamp, and
/// every request checks it against the user's current one (remembered by <see cref="TokenCache"/>, which forgets on
/// every change to users). Changing the password or the roles, disabling or deleting the user changes or removes the
/// stamp: from then on the user's earlier cookies are refused, in this process at once and in the others as soon as the
/// change's notification arrives (milliseconds; without the notification connection every request asks the database).
/// </summary>
public sealed class Sessions(NpgsqlDataSource db, TokenCache cache)
{
    public const string StampClaim = "relabel:stamp";

    /// <summary>Whether the cookie's user still exists, is enabled and has the stamp the cookie was issued with.</summary>
    public async Task<bool> IsCurrentAsync(ClaimsPrincipal principal, CancellationToken ct)
    {
        if (!long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            || !Guid.TryParse(principal.FindFirstValue(StampClaim), out var stamp))
            return false;
        if (!cache.TryGetUser(id, out var user))
        {
            var generation = cache.Generation;
            await using var connection = await db.OpenConnectionAsync(ct);
            user = await connection.QuerySingleOrDefaultAsync<TokenCache.UserState>(
                "select id, security_stamp, disabled_at is not null as disabled from users where id = @id", new { id });
            cache.RememberUser(id, user, generation);
        }
        return user is { Disabled: false } && user.SecurityStamp == stamp;
    }
}

/// <summary>
/// Password sign-ins, limited per account (failures in a window, whoever sends them) besides the per-address limit of
/// the rate limiter; and a hash to verify against when the name is unknown or has no password, so that every attempt
/// costs the same work and the answer's timing does not tell which names exist.
/// </summary>
public sealed class SignInThrottle(IOptions<RelabelOptions> options, IPasswordHasher<string> hasher)
{
    private sealed record Window(DateTime Start, int Failures);

    private readonly ConcurrentDictionary<string, Window> _failures = new(StringComparer.Ordinal);
    private readonly Lazy<string> _dummyHash = new(() => hasher.HashPassword("", Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));

    /// <summary>The hash of a random password nobody knows.</summary>
    public string DummyHash => _dummyHash.Value;

    private TimeSpan Lockout => TimeSpan.FromMinutes(options.Value.SignInLockoutMinutes);

    private static string Key(string name) => name.Trim().ToLowerInvariant();

    /// <summary>How long the account's sign-ins stay refused, or null while it may try.</summary>
    public TimeSpan? RetryAfter(string name)
    {
        if (!_failures.TryGetValue(Key(name), out var window)) return null;
        var left = window.Start + Lockout - DateTime.UtcNow;
        if (left <= TimeSpan.Zero) return null;
        return window.Failures >= options.Value.SignInFailuresPerAccount ? left : null;
    }

    public void Failed(string name)
    {
        var now = DateTime.UtcNow;
        // Names are whatever callers send: the map is bounded, expired windows go first.
        if (_failures.Count > 100_000)
            foreach (var (key, window) in _failures)
                if (window.Start + Lockout < now) _failures.TryRemove(KeyValuePair.Create(key, window));
        _failures.AddOrUpdate(Key(name), _ => new Window(now, 1),
            (_, window) => window.Start + Lockout < now ? new Window(now, 1) : window with { Failures = window.Failures + 1 });
    }
}

/// <summary>
/// Credentials the server generates (the first admin's, the demo accounts'), shown once: on the controlling terminal
/// when there is one, else appended to a file only this user may read; never on standard output, where the JSON log
/// goes, and never in the log (which only says where they are).
/// </summary>
public static class InitialSecrets
{
    public static void Show(RelabelOptions options, ILogger logger, string text)
    {
        if (options.InitialSecretsOnTerminal)
        try
        {
            using var terminal = new FileStream("/dev/tty", FileMode.Open, FileAccess.Write);
            using var writer = new StreamWriter(terminal);
            writer.Write(text);
            logger.LogWarning("Generated credentials were shown on the terminal, once");
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }

        var path = options.ResolvePath(options.InitialSecretsPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var access = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write };
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!OperatingSystem.IsWindows()) access.UnixCreateMode = OwnerOnly;
        using (var file = new StreamWriter(path, access)) file.Write(text);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, OwnerOnly);
        logger.LogWarning("Generated credentials were written to {Path} (readable by this user only): read them, then delete the file", path);
    }
}
