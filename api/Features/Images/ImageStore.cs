using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Images;

public sealed record StoredImage(string Sha256, long ByteSize, string MediaType, int Width, int Height);

/// <summary>Content-addressed files: root/ab/cd/abcd…; identical bytes are stored once.</summary>
public sealed class ImageStore(IOptions<RelabelOptions> options)
{
    private readonly string _root = options.Value.ResolvePath(options.Value.ImageRoot);

    public string PathOf(string sha256) => Path.Combine(_root, sha256[..2], sha256[2..4], sha256);

    public async Task<StoredImage> SaveAsync(byte[] bytes, string mediaType, int width, int height, CancellationToken ct = default)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var path = PathOf(sha256);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Write then rename, so a reader never sees a half-written file.
            var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            await File.WriteAllBytesAsync(temporary, bytes, ct);
            File.Move(temporary, path, overwrite: true);
        }
        return new StoredImage(sha256, bytes.LongLength, mediaType, width, height);
    }
}
