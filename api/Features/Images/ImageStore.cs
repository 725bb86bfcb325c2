using System.Security.Cryptography;
using Dapper;
using Npgsql;
using Microsoft.Extensions.Options;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Images;

public sealed record StoredImage(string Sha256, long ByteSize, string MediaType, int Width, int Height);

/// <summary>Content-addressed files: root/ab/cd/abcd…; identical bytes are stored once.</summary>
public sealed class ImageStore(IOptions<RelabelOptions> options)
{
    private readonly string _root = options.Value.ResolvePath(options.Value.ImageRoot);

    public string PathOf(string sha256) => Path.Combine(_root, sha256[..2], sha256[2..4], sha256);

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public Task<StoredImage> SaveAsync(byte[] bytes, string mediaType, int width, int height, CancellationToken ct = default) =>
        SaveAsync(bytes, mediaType, width, height, written: null, ct);

    /// <param name="written">Collects the hashes of the files this call wrote (that were not in the store before).</param>
    public async Task<StoredImage> SaveAsync(byte[] bytes, string mediaType, int width, int height, ICollection<string>? written, CancellationToken ct = default)
    {
        var sha256 = Sha256(bytes);
        var path = PathOf(sha256);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Write then rename, so a reader never sees a half-written file.
            var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            await File.WriteAllBytesAsync(temporary, bytes, ct);
            File.Move(temporary, path, overwrite: true);
            written?.Add(sha256);
        }
        return new StoredImage(sha256, bytes.LongLength, mediaType, width, height);
    }

    /// <summary>
    /// Taken (shared) by a transaction that may store a file and name it, before it looks whether the file exists; held
    /// until it ends. <see cref="RemoveUnreferencedAsync"/> takes it exclusively: so it never removes a file that a
    /// transaction still running may name.
    /// </summary>
    public static Task LockSharedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> sha256s) =>
        connection.ExecuteAsync(
            "select pg_advisory_xact_lock_shared(hashtextextended('image-file:' || h, 0)) from (select distinct unnest(@hashes) as h order by 1) files",
            new { hashes = sha256s.ToArray() }, transaction);

    /// <summary>Removes the files of a failed write that no image names (another upload of the same bytes may).</summary>
    public async Task RemoveUnreferencedAsync(NpgsqlDataSource db, IEnumerable<string> sha256s)
    {
        foreach (var sha256 in sha256s)
        {
            await using var connection = await db.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("select pg_advisory_xact_lock(hashtextextended('image-file:' || @sha256, 0))", new { sha256 }, transaction);
            if (!await connection.ExecuteScalarAsync<bool>("select exists (select 1 from images where sha256 = @sha256)", new { sha256 }, transaction))
                File.Delete(PathOf(sha256));
            await transaction.CommitAsync();
        }
    }
}
