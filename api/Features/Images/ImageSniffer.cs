using System.Buffers.Binary;

namespace Relabel.Api.Features.Images;

public sealed record SniffedImage(string MediaType, int Width, int Height);

/// <summary>
/// Recognises JPEG, PNG and WebP by their bytes (never by file name) and reads the pixel size from the header.
/// Anything else, SVG included, is refused: an uploaded SVG can carry scripts.
/// </summary>
public static class ImageSniffer
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static SniffedImage? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 24 && data[..8].SequenceEqual(PngSignature) && data.Slice(12, 4).SequenceEqual("IHDR"u8))
            return new SniffedImage("image/png",
                (int)BinaryPrimitives.ReadUInt32BigEndian(data.Slice(16, 4)),
                (int)BinaryPrimitives.ReadUInt32BigEndian(data.Slice(20, 4)));
        if (data.Length >= 4 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
            return SniffJpeg(data);
        if (data.Length >= 30 && data[..4].SequenceEqual("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8))
            return SniffWebP(data);
        return null;
    }

    private static SniffedImage? SniffJpeg(ReadOnlySpan<byte> data)
    {
        var i = 2;
        while (i + 9 < data.Length)
        {
            if (data[i] != 0xFF) return null;
            var marker = data[i + 1];
            if (marker == 0xFF) { i++; continue; }
            if (marker is 0xD8 or 0x01 || marker is >= 0xD0 and <= 0xD7) { i += 2; continue; }
            var length = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i + 2, 2));
            // Start-of-frame markers carry the size; C4 (DHT), C8 and CC (DAC) are not frames.
            if (marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC))
            {
                var height = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i + 5, 2));
                var width = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i + 7, 2));
                return width > 0 && height > 0 ? new SniffedImage("image/jpeg", width, height) : null;
            }
            if (length < 2) return null;
            i += 2 + length;
        }
        return null;
    }

    private static SniffedImage? SniffWebP(ReadOnlySpan<byte> data)
    {
        var chunk = data.Slice(12, 4);
        if (chunk.SequenceEqual("VP8X"u8))
            return new SniffedImage("image/webp",
                1 + (data[24] | data[25] << 8 | data[26] << 16),
                1 + (data[27] | data[28] << 8 | data[29] << 16));
        if (chunk.SequenceEqual("VP8 "u8) && data[23] == 0x9D && data[24] == 0x01 && data[25] == 0x2A)
            return new SniffedImage("image/webp",
                BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(26, 2)) & 0x3FFF,
                BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(28, 2)) & 0x3FFF);
        if (chunk.SequenceEqual("VP8L"u8) && data[20] == 0x2F)
        {
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(21, 4));
            return new SniffedImage("image/webp", (int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }
        return null;
    }
}
