namespace Relabel.Api.Infrastructure;

public static class RepositoryRoot
{
    /// <summary>The folder holding Backend.sln, searched upwards from the binaries, then from the content root.</summary>
    public static string Find(string contentRoot)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, contentRoot })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Backend.sln"))) return dir.FullName;
        return Path.GetFullPath(Path.Combine(contentRoot, ".."));
    }
}
