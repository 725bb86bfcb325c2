using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Review;
using Xunit;

namespace Relabel.Api.Tests.Images;

/// <summary>An image upload that fails leaves no bytes of its own behind in the image store.</summary>
public sealed class FailedUploadFilesTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;

    private string PathOf(byte[] bytes)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return Path.Combine(App.ImageRoot, sha[..2], sha[2..4], sha);
    }

    private static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(part, "files", name);
        }
        form.Add(new StringContent("0"), "label");
        return form;
    }

    [Fact]
    public async Task The_bytes_written_for_a_failed_upload_are_removed_and_bytes_other_images_name_are_kept()
    {
        await TestData.CreateDatasetAsync(App.Admin(), "files", ReviewTestData.Classes);
        using var admin = App.Admin();
        byte[] kept = TestData.Png(11, 11), fresh = TestData.Png(12, 12), failing = TestData.Png(13, 13);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/api/datasets/files/images", Form(("kept.png", kept)))).StatusCode);
        Assert.True(File.Exists(PathOf(kept)));

        // The database refuses the last image of the next upload, after every file of it has been written.
        await App.ExecuteAsync(
            """
            create function refuse_image() returns trigger language plpgsql as $$
            begin raise exception using errcode = 'check_violation', message = 'refused for the test', constraint = 'refused_image'; end $$;
            create trigger refuse_image before insert on images for each row when (new.file_name = 'refused.png') execute function refuse_image();
            """);
        var response = await admin.PostAsync("/api/datasets/files/images",
            Form(("again.png", kept), ("fresh.png", fresh), ("refused.png", failing)));
        await response.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await App.ExecuteAsync("drop trigger refuse_image on images; drop function refuse_image()");

        Assert.False(File.Exists(PathOf(fresh)), "The bytes of an image that was never stored are still in the store.");
        Assert.False(File.Exists(PathOf(failing)), "The bytes of the refused image are still in the store.");
        Assert.True(File.Exists(PathOf(kept)), "Bytes that a stored image names were removed.");
        Assert.Equal(1, await App.ScalarAsync<long>(
            "select count(*) from images i join datasets d on d.id = i.dataset_id where d.slug = 'files'"));
    }
}
