using Dapper;
using Relabel.Api.Features.Images;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Images;

public sealed class ImportImagesCommandTests(ApiFixture fixture) : IClassFixture<ApiFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("relabel-import-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<Dictionary<string, string>> LabelsAsync(string dataset)
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(string FileName, string Wnid)>(
            """
            select i.file_name, i.original_wnid from images i join datasets d on d.id = i.dataset_id
            where d.slug = @dataset and i.sha256 is not null
            """,
            new { dataset });
        return rows.ToDictionary(r => r.FileName, r => r.Wnid);
    }

    /// <summary>
    /// Runs the command with the console captured, and puts the console back whatever happens: it belongs to the whole
    /// test process, and a writer left behind would swallow every later test's output.
    /// </summary>
    private async Task<(int Code, string Output)> ImportAsync(params string[] args)
    {
        var (outBefore, errorBefore) = (Console.Out, Console.Error);
        var output = new StringWriter();
        Console.SetOut(output);
        Console.SetError(output);
        try
        {
            var code = await ImportImagesCommand.RunAsync(fixture.App.Services, args);
            return (code, output.ToString());
        }
        finally
        {
            Console.SetOut(outBefore);
            Console.SetError(errorBefore);
        }
    }

    [Fact]
    public async Task An_ImageFolder_tree_imports_with_bad_files_skipped_and_reruns_change_nothing()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "folder", ["n01440764", "n02085620"]);
        foreach (var (wnid, names) in new[] { ("n01440764", new[] { "t1.JPEG", "t2.JPEG" }), ("n02085620", new[] { "c1.JPEG" }) })
        {
            Directory.CreateDirectory(Path.Combine(_dir, wnid));
            foreach (var name in names) await File.WriteAllBytesAsync(Path.Combine(_dir, wnid, name), TestData.Jpeg(10 + name.Length, 10));
        }
        await File.WriteAllTextAsync(Path.Combine(_dir, "n02085620", "notes.txt"), "not an image");
        Directory.CreateDirectory(Path.Combine(_dir, "n12345678"));
        await File.WriteAllBytesAsync(Path.Combine(_dir, "n12345678", "x.JPEG"), TestData.Png(2, 2));

        var (code, output) = await ImportAsync("--dataset", "folder", "--dir", _dir);
        Assert.Equal(0, code);
        Assert.Contains("5 files, 3 added, 0 updated, 0 unchanged, 2 skipped", output);
        Assert.Equal(new Dictionary<string, string> { ["t1.JPEG"] = "n01440764", ["t2.JPEG"] = "n01440764", ["c1.JPEG"] = "n02085620" },
            await LabelsAsync("folder"));

        (code, output) = await ImportAsync("--dataset", "folder", "--dir", _dir);
        Assert.Equal(0, code);
        Assert.Contains("0 added, 0 updated, 3 unchanged, 2 skipped", output);
    }

    [Fact]
    public async Task A_flat_folder_imports_with_a_labels_file_by_name_or_by_sorted_order()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "flat", ["n01440764", "n02085620"]);
        await TestData.CreateDatasetAsync(admin, "flat-sorted", ["n01440764", "n02085620"]);
        foreach (var name in new[] { "b.png", "a.png", "c.png" })
            await File.WriteAllBytesAsync(Path.Combine(_dir, name), TestData.Png(name[0], 5));
        var byName = Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".txt");
        await File.WriteAllTextAsync(byName, "a.png 1\nb.png n01440764\nc.png 0\nmissing.png 0\n");
        var sorted = Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".txt");
        await File.WriteAllTextAsync(sorted, "n02085620\nn02085620\nn01440764\n");
        try
        {
            Assert.Equal(0, (await ImportAsync("--dataset", "flat", "--dir", _dir, "--labels", byName)).Code);
            Assert.Equal(new Dictionary<string, string> { ["a.png"] = "n02085620", ["b.png"] = "n01440764", ["c.png"] = "n01440764" },
                await LabelsAsync("flat"));
            Assert.Equal(0, (await ImportAsync("--dataset", "flat-sorted", "--dir", _dir, "--labels", sorted)).Code);
            Assert.Equal(new Dictionary<string, string> { ["a.png"] = "n02085620", ["b.png"] = "n02085620", ["c.png"] = "n01440764" },
                await LabelsAsync("flat-sorted"));
            var (refused, message) = await ImportAsync("--dataset", "no-such", "--dir", _dir);
            Assert.Equal(2, refused);
            Assert.Contains("does not exist", message);
        }
        finally
        {
            File.Delete(byName);
            File.Delete(sorted);
        }
    }
}
