using System.Security;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Npgsql;
using Relabel.Api.Features.Datasets;
using Relabel.Api.Features.Images;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Demo;

/// <summary>One generated demo picture: its class and, for some, a second object of another class.</summary>
public sealed record DemoImage(string FileName, string Wnid, string? SecondWnid);

/// <summary>
/// The demo of "make run", made entirely by the program: two paired datasets over 100 WordNet classes
/// (30 dog breeds, 30 other organisms, 40 objects), 1,500 drawn SVG images each, and three accounts.
/// Nothing from ImageNet is used but the class ids, which are WordNet offsets.
/// </summary>
public sealed class DemoSeeder(
    NpgsqlDataSource db, ImageStore store, IPasswordHasher<string> hasher, IOptions<RelabelOptions> options, ILogger<DemoSeeder> logger)
{
    public const string Validation = "demo-val";
    public const string Shifted = "demo-v2";
    public const int ImagesPerDataset = 1500;

    /// <summary>The demo's accounts. Their passwords are random, made when the account is (or Relabel:DemoPassword).</summary>
    public static readonly (string Name, string Role)[] Accounts =
    [
        ("demo-admin", "admin"),
        ("demo-reviewer", "reviewer"),
        ("demo-uploader", "uploader"),
    ];

    private static string[] AccountNames => Accounts.Select(a => a.Name).ToArray();

    /// <summary>
    /// Creates the demo accounts that are missing, each with a random password shown once (on the terminal, or in a file
    /// of this user's: <see cref="InitialSecrets"/>), and enables any that a start without the demo disabled.
    /// </summary>
    public async Task EnsureAccountsAsync()
    {
        var created = new List<(string Name, string Password, string Role)>();
        await using var connection = await db.OpenConnectionAsync();
        foreach (var (name, role) in Accounts)
        {
            var password = string.IsNullOrEmpty(options.Value.DemoPassword) ? Features.Accounts.AccountsApi.NewPassword() : options.Value.DemoPassword;
            var inserted = await connection.ExecuteAsync(
                """
                insert into users (name, display_name, password_hash, roles) values (@name, @name, @hash, array[@role])
                on conflict (name) do nothing
                """,
                new { name, hash = hasher.HashPassword(name, password), role });
            if (inserted == 1) created.Add((name, password, role));
        }
        var enabled = await connection.ExecuteAsync(
            "update users set disabled_at = null where name = any(@names) and disabled_at is not null", new { names = AccountNames });
        if (enabled > 0) logger.LogWarning("Enabled {Count} demo account(s) again: Relabel:Demo is on", enabled);
        if (created.Count > 0 && string.IsNullOrEmpty(options.Value.DemoPassword))
            InitialSecrets.Show(options.Value, logger,
                "\n Relabel created the demo accounts (passwords shown once; an admin can reset them):\n" +
                string.Concat(created.Select(a => $"   {a.Name,-14} {a.Password}   ({a.Role})\n")) + "\n");
    }

    /// <summary>A production start without the demo disables the demo's accounts (their sessions and tokens end).</summary>
    public async Task DisableAccountsAsync()
    {
        await using var connection = await db.OpenConnectionAsync();
        var disabled = await connection.ExecuteAsync(
            """
            update users set disabled_at = now(), security_stamp = gen_random_uuid()
            where name = any(@names) and disabled_at is null
            """,
            new { names = AccountNames });
        if (disabled > 0)
            logger.LogWarning("Disabled {Count} demo account(s) ({Names}): this production server runs with Relabel:Demo off",
                disabled, string.Join(", ", AccountNames));
    }

    public static readonly string[] Dogs =
    [
        "n02085620", "n02086240", "n02087394", "n02088466", "n02089973", "n02091032", "n02091635", "n02093256",
        "n02093859", "n02094433", "n02096051", "n02096585", "n02097298", "n02098286", "n02099601", "n02100583",
        "n02101388", "n02102318", "n02104365", "n02105412", "n02106030", "n02106662", "n02107683", "n02108422",
        "n02109525", "n02110341", "n02111129", "n02112018", "n02113023", "n02113799",
    ];

    public static readonly string[] OtherOrganisms =
    [
        "n01440764", "n01496331", "n01530575", "n01558993", "n01601694", "n01629819", "n01641577", "n01667114",
        "n01682714", "n01692333", "n01698640", "n01729977", "n01740131", "n01751748", "n01770081", "n01774384",
        "n01795545", "n01806567", "n01820546", "n01843065", "n01860187", "n01882714", "n01924916", "n01950731",
        "n01980166", "n01986214", "n02007558", "n02013706", "n02027492", "n02056570",
    ];

    public static readonly string[] Objects =
    [
        "n02704792", "n02791124", "n02815834", "n02870880", "n02930766", "n02980441", "n03032252", "n03110669",
        "n03187595", "n03255030", "n03372029", "n03444034", "n03482405", "n03538406", "n03633091", "n03692522",
        "n03742115", "n03781244", "n03814639", "n03873416", "n03903868", "n03944341", "n03991062", "n04040759",
        "n04118538", "n04153751", "n04238763", "n04270147", "n04332243", "n04371774", "n04435653", "n04486054",
        "n04532670", "n04584207", "n06785654", "n07697313", "n07742313", "n07873807", "n09428293", "n04597913",
    ];

    public static string[] Classes => [.. Dogs, .. OtherOrganisms, .. Objects];

    /// <summary>The images of a demo dataset, the same on every run: 15 per class, every sixth with a second object.</summary>
    public static IReadOnlyList<DemoImage> Images(string dataset)
    {
        var random = new Random(dataset == Validation ? 2012 : 2019);
        var classes = Classes;
        var images = new List<DemoImage>(ImagesPerDataset);
        for (var i = 0; i < ImagesPerDataset; i++)
        {
            var wnid = classes[i % classes.Length];
            string? second = null;
            if (random.Next(6) == 0)
            {
                // A second object mostly from the same group (a dog beside another dog), as in real photos.
                var group = Dogs.Contains(wnid) ? Dogs : OtherOrganisms.Contains(wnid) ? OtherOrganisms : Objects;
                var pool = random.Next(4) == 0 ? classes : group;
                second = pool[random.Next(pool.Length)];
                if (second == wnid) second = null;
            }
            images.Add(new DemoImage($"{dataset}_{i + 1:D5}.svg", wnid, second));
        }
        return images;
    }

    public async Task SeedIfMissingAsync()
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await connection.ExecuteScalarAsync<bool>("select exists (select 1 from datasets where slug = @Validation)", new { Validation }))
            return;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var lemmas = (await connection.QueryAsync<(string Wnid, string Lemma)>(
            "select wnid, lemmas[1] from synsets where wnid = any(@classes)", new { classes = Classes })).ToDictionary(r => r.Wnid, r => r.Lemma);

        await using var transaction = await connection.BeginTransactionAsync();

        var labelSpaceId = await connection.ExecuteScalarAsync<long>("insert into label_spaces default values returning id", transaction: transaction);
        await LabelSpaces.ReplaceClassesAsync(connection, transaction, labelSpaceId, Classes);
        long? previous = null;
        foreach (var (slug, name, description) in new[]
                 {
                     (Validation, "Demo validation set", "Generated pictures of 100 WordNet classes (the demo's 'ImageNet')."),
                     (Shifted, "Demo shifted set", "A second sample of the same classes with other colours and clutter (the demo's 'ImageNetV2')."),
                 })
        {
            var datasetId = await connection.ExecuteScalarAsync<long>(
                """
                insert into datasets (slug, name, description, label_space_id, shift_of, images_public)
                values (@slug, @name, @description, @labelSpaceId, @previous, true)
                returning id
                """,
                new { slug, name, description, labelSpaceId, previous }, transaction);
            await DatasetsApi.CreateBuiltInSubsetsAsync(connection, transaction, datasetId);
            var images = Images(slug);
            var stored = new List<StoredImage>(images.Count);
            foreach (var image in images)
                stored.Add(await store.SaveAsync(
                    Encoding.UTF8.GetBytes(DrawSvg(image, lemmas, shifted: slug == Shifted)), "image/svg+xml", 256, 256));
            await connection.ExecuteAsync(
                """
                insert into images (dataset_id, file_name, original_wnid, sha256, byte_size, width, height, media_type)
                select @datasetId, f, w, h, b, 256, 256, 'image/svg+xml'
                from unnest(@files, @wnids, @hashes, @sizes) as t(f, w, h, b)
                """,
                new
                {
                    datasetId,
                    files = images.Select(i => i.FileName).ToArray(),
                    wnids = images.Select(i => i.Wnid).ToArray(),
                    hashes = stored.Select(s => s.Sha256).ToArray(),
                    sizes = stored.Select(s => s.ByteSize).ToArray(),
                },
                transaction);
            previous = datasetId;
        }
        await transaction.CommitAsync();
        logger.LogInformation("Demo datasets loaded in {Seconds:F1} s", started.Elapsed.TotalSeconds);
    }

    /// <summary>A 256x256 picture: a shape per group, a colour per class, the class name, sometimes a second object.</summary>
    public static string DrawSvg(DemoImage image, IReadOnlyDictionary<string, string> lemmas, bool shifted)
    {
        var seed = StableHash(image.FileName);
        var random = new Random(seed);
        var background = shifted ? $"hsl({random.Next(360)},25%,{70 + random.Next(20)}%)" : $"hsl({random.Next(360)},15%,93%)";
        var svg = new StringBuilder();
        svg.Append("""<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">""");
        svg.Append($"""<rect width="256" height="256" fill="{background}"/>""");
        if (shifted)
            for (var i = 0; i < 6; i++)
                svg.Append($"""<circle cx="{random.Next(256)}" cy="{random.Next(256)}" r="{4 + random.Next(14)}" fill="hsl({random.Next(360)},40%,60%)" opacity="0.5"/>""");
        DrawObject(svg, image.Wnid, image.SecondWnid is null ? 128 : 100, 118, image.SecondWnid is null ? 70 : 55, random);
        if (image.SecondWnid is not null) DrawObject(svg, image.SecondWnid, 190, 160, 38, random);
        var label = SecurityElement.Escape(lemmas.GetValueOrDefault(image.Wnid, image.Wnid));
        svg.Append($"""<text x="128" y="240" font-family="sans-serif" font-size="18" text-anchor="middle" fill="#222">{label}</text>""");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void DrawObject(StringBuilder svg, string wnid, int x, int y, int size, Random random)
    {
        var hue = StableHash(wnid) % 360;
        var fill = $"hsl({hue},{55 + random.Next(20)}%,{45 + random.Next(15)}%)";
        if (Dogs.Contains(wnid))
        {
            // A dog: head, two ears, a nose.
            svg.Append($"""<circle cx="{x}" cy="{y}" r="{size * 6 / 10}" fill="{fill}"/>""");
            svg.Append($"""<ellipse cx="{x - size / 2}" cy="{y - size / 3}" rx="{size / 5}" ry="{size / 3}" fill="{fill}" stroke="#333"/>""");
            svg.Append($"""<ellipse cx="{x + size / 2}" cy="{y - size / 3}" rx="{size / 5}" ry="{size / 3}" fill="{fill}" stroke="#333"/>""");
            svg.Append($"""<circle cx="{x}" cy="{y + size / 6}" r="{size / 10}" fill="#222"/>""");
        }
        else if (OtherOrganisms.Contains(wnid))
        {
            svg.Append($"""<ellipse cx="{x}" cy="{y}" rx="{size * 8 / 10}" ry="{size / 2}" fill="{fill}"/>""");
            svg.Append($"""<polygon points="{x + size * 7 / 10},{y} {x + size * 12 / 10},{y - size / 3} {x + size * 12 / 10},{y + size / 3}" fill="{fill}"/>""");
            svg.Append($"""<circle cx="{x - size / 2}" cy="{y - size / 8}" r="{Math.Max(2, size / 12)}" fill="#111"/>""");
        }
        else
        {
            var sides = 3 + StableHash(wnid) % 4;
            var points = string.Join(' ', Enumerable.Range(0, sides).Select(k =>
            {
                var angle = 2 * Math.PI * k / sides - Math.PI / 2;
                return $"{x + size * Math.Cos(angle):F0},{y + size * Math.Sin(angle):F0}";
            }));
            svg.Append($"""<polygon points="{points}" fill="{fill}" stroke="#333" stroke-width="2"/>""");
        }
    }

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text) hash = unchecked(hash * 31 + c);
        return hash & 0x7FFFFFFF;
    }
}
