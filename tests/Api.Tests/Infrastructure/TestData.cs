using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Relabel.Api.Tests.Infrastructure;

public static class TestData
{
    /// <summary>../shared/data beside the repository: real public reference data, never copied into the repo.</summary>
    public static string SharedData
    {
        get
        {
            var root = Relabel.Api.Infrastructure.RepositoryRoot.Find(AppContext.BaseDirectory);
            var path = Path.GetFullPath(Path.Combine(root, "..", "shared", "data"));
            if (!Directory.Exists(path))
                throw new InvalidOperationException(
                    $"The reference data is absent: {path} does not exist. These tests need ../shared/data beside the repository (CI always has it).");
            return path;
        }
    }

    /// <summary>The 1,000 ILSVRC-2012 wnids in class-index order.</summary>
    public static string[] IlsvrcClasses() =>
        File.ReadLines(Path.Combine(SharedData, "ilsvrc2012", "synsets.tsv")).Skip(1)
            .Select(line => line.Split('\t'))
            .OrderBy(f => int.Parse(f[0]))
            .Select(f => f[1])
            .ToArray();

    public static async Task CreateDatasetAsync(HttpClient admin, string slug, IEnumerable<string> classes, bool imagesPublic = false)
    {
        var response = await admin.PostAsJsonAsync("/api/datasets", new { slug, name = slug, classes, imagesPublic });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts a problem+json answer with the status, and returns it.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.True(problem.TryGetProperty("title", out _), text);
        Assert.True(problem.TryGetProperty("traceId", out _), text);
        return problem;
    }

    /// <summary>Whether a problem lists an error of the field (errors: [{line, field, message}]).</summary>
    public static bool HasFieldError(this JsonElement problem, string field) =>
        problem.GetProperty("errors").EnumerateArray().Any(e => e.GetProperty("field").GetString() == field);

    /// <summary>A valid 1x1 PNG with the given size in its header.</summary>
    public static byte[] Png(int width, int height)
    {
        var bytes = Convert.FromBase64String(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), (uint)width);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), (uint)height);
        return bytes;
    }

    /// <summary>A minimal baseline JPEG header (SOI, APP0, SOF0) with the given size.</summary>
    public static byte[] Jpeg(int width, int height) =>
    [
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        0xFF, 0xC0, 0x00, 0x11, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 3,
        1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9,
    ];
}
