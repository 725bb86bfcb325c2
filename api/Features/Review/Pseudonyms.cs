using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Review;

/// <summary>
/// What anonymous readers see instead of a reviewer's account name: "reviewer-" and ten hex digits of an HMAC of the
/// dataset and the user under the server's own secret (migration 0017). The same reviewer has the same pseudonym
/// throughout a dataset, so a reader can still follow one reviewer's work, but another one in every other dataset, and
/// nobody without the secret can tell whose it is. Signed-in readers see names; imported sources (releases, crowd
/// raters) keep the names they were imported with.
/// </summary>
public sealed class Pseudonyms(NpgsqlDataSource db)
{
    private byte[]? _key;

    /// <summary>Names reviewers for this reader: their names when signed in, their pseudonyms in the dataset when not.</summary>
    public async Task<Func<long, string, string>> ForReaderAsync(ClaimsPrincipal reader, long datasetId)
    {
        if (reader.Identity?.IsAuthenticated == true) return (_, name) => name;
        var key = _key ??= await LoadKeyAsync();
        return (userId, _) => Of(key, datasetId, userId);
    }

    public static string Of(byte[] key, long datasetId, long userId)
    {
        var mac = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(
            datasetId.ToString(CultureInfo.InvariantCulture) + ":" + userId.ToString(CultureInfo.InvariantCulture)));
        return "reviewer-" + Convert.ToHexStringLower(mac)[..10];
    }

    private async Task<byte[]> LoadKeyAsync()
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<byte[]>("select value from server_secrets where name = 'pseudonyms'")
               ?? throw new InvalidOperationException("The pseudonym secret is missing (migration 0017).");
    }
}
