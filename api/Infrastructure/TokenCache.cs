using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Relabel.Api.Infrastructure;

/// <summary>
/// Who each recently seen API token belongs to, so that a token-authenticated request does not spend a database round
/// trip on its token (a review round trip used to spend two of its five there); likewise the security stamp that each
/// recently seen cookie session is checked against (<see cref="Sessions"/>).
/// It is only trusted while it hears every change: triggers on users and api_tokens send a notification on
/// <see cref="Channel"/> (migration 0014) and a LISTEN connection here drops everything on each one; this process's own
/// revocations drop it at once, before they answer. While that connection is down nothing is remembered, and when it is
/// back everything remembered before is dropped. An entry also keeps its token's expiry and lives at most
/// <see cref="MaxAge"/>, in case a notification is lost with its connection before anyone notices.
/// A change made by another process is therefore seen here a few milliseconds later, not at once.
/// </summary>
public sealed class TokenCache(NpgsqlDataSource db, ILogger<TokenCache> logger) : BackgroundService
{
    public const string Channel = "relabel_auth";
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);
    /// <summary>How often the LISTEN connection is checked: a connection that died silently delivers nothing.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(20);
    private const int MaxEntries = 10_000;

    /// <summary>A token's owner as the database tells it (properties, not a constructor, for Dapper's mapping).</summary>
    public sealed record Owner
    {
        public required long Id { get; init; }
        public required string Name { get; init; }
        public required string[] Roles { get; init; }
        public DateTime? ExpiresAt { get; init; }
    }

    private sealed record Entry(Owner Owner, long Generation, long CachedAt);

    /// <summary>What a sign-in cookie is checked against: the user as the database tells it now (null: deleted).</summary>
    public sealed record UserState
    {
        public required long Id { get; init; }
        public required Guid SecurityStamp { get; init; }
        public required bool Disabled { get; init; }
    }

    private sealed record UserEntry(UserState? State, long Generation, long CachedAt);

    /// <summary>Keyed by user id: the state cookie sessions of that user are checked against.</summary>
    private readonly ConcurrentDictionary<long, UserEntry> _users = new();

    /// <summary>Keyed by the token's SHA-256 (hex): the token itself is never kept.</summary>
    private readonly ConcurrentDictionary<string, Entry> _entries = new();
    private long _generation;
    private volatile bool _listening;

    /// <summary>Whether entries are served now (the LISTEN connection is up).</summary>
    public bool Listening => _listening;

    /// <summary>Call before reading a token from the database; pass the result to <see cref="Remember"/>.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public bool TryGet(string key, out Owner owner)
    {
        owner = null!;
        if (!_listening || !_entries.TryGetValue(key, out var entry)) return false;
        if (entry.Generation != Generation || Stopwatch.GetElapsedTime(entry.CachedAt) > MaxAge
            || entry.Owner.ExpiresAt is { } expires && expires <= DateTime.UtcNow)
        {
            _entries.TryRemove(KeyValuePair.Create(key, entry));
            return false;
        }
        owner = entry.Owner;
        return true;
    }

    /// <summary>
    /// Remembers what the database said, unless something changed since <paramref name="generation"/> was read: a
    /// change that committed while the database was being asked may not be in its answer.
    /// </summary>
    public void Remember(string key, Owner owner, long generation)
    {
        if (!_listening || generation != Generation) return;
        if (_entries.Count >= MaxEntries) _entries.Clear();
        _entries[key] = new Entry(owner, generation, Stopwatch.GetTimestamp());
    }

    /// <summary>A user's state as remembered (false: ask the database, then <see cref="RememberUser"/>).</summary>
    public bool TryGetUser(long id, out UserState? state)
    {
        state = null;
        if (!_listening || !_users.TryGetValue(id, out var entry)) return false;
        if (entry.Generation != Generation || Stopwatch.GetElapsedTime(entry.CachedAt) > MaxAge)
        {
            _users.TryRemove(KeyValuePair.Create(id, entry));
            return false;
        }
        state = entry.State;
        return true;
    }

    /// <summary>As <see cref="Remember"/>, for a user's state.</summary>
    public void RememberUser(long id, UserState? state, long generation)
    {
        if (!_listening || generation != Generation) return;
        if (_users.Count >= MaxEntries) _users.Clear();
        _users[id] = new UserEntry(state, generation, Stopwatch.GetTimestamp());
    }

    /// <summary>Forgets every token and user: call after changing users or tokens (other processes hear the notification).</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
        _users.Clear();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, _) => Invalidate();
                await using (var listen = new NpgsqlCommand($"listen {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                // Anything may have changed while no one was listening.
                Invalidate();
                _listening = true;
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (await connection.WaitAsync(Heartbeat, stoppingToken)) continue;
                    await using var ping = new NpgsqlCommand("select 1", connection);
                    await ping.ExecuteScalarAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or IOException)
            {
                logger.LogWarning(e, "Token cache: lost the notification connection; tokens are checked in the database until it is back");
            }
            finally
            {
                _listening = false;
                Invalidate();
            }
            try { await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
