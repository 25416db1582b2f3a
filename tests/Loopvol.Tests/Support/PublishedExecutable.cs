namespace Loopvol.Tests.Support;

/// <summary>
/// The native AOT executable that <c>dotnet publish</c> makes of src/Loopvol. scripts/test publishes it before the
/// tests and names it in <see cref="Variable"/>; then a missing file is a failure. Run without that variable (plain
/// <c>dotnet test</c>), the tests publish it themselves into the same gitignored directory, so they never skip and
/// always test what the source makes now (publish is incremental: unchanged sources relink nothing).
/// </summary>
public static class PublishedExecutable
{
    /// <summary>The environment variable that names the published executable.</summary>
    public const string Variable = "LOOPVOL_PUBLISHED";

    private static readonly SemaphoreSlim Once = new(1, 1);
    private static string? _path;

    /// <summary>The published executable's path; publishes it first when <see cref="Variable"/> is not set.</summary>
    public static async Task<string> FindAsync()
    {
        await Once.WaitAsync();
        try
        {
            return _path ??= await LocateAsync();
        }
        finally
        {
            Once.Release();
        }
    }

    private static async Task<string> LocateAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } named)
        {
            return File.Exists(named)
                ? named
                : throw new FileNotFoundException($"{Variable} names {named}, which does not exist: the publish step did not make it", named);
        }
        var root = RepositoryRoot();
        var output = Path.Combine(root, "artifacts", "publish");
        await Processes.RunAsync("dotnet",
        [
            "publish", Path.Combine(root, "src", "Loopvol", "Loopvol.csproj"), "-c", "Release", "-r", "linux-x64",
            "-o", output, "-nologo", "-clp:ErrorsOnly", "-warnaserror",
        ], TimeSpan.FromMinutes(15));
        return Path.Combine(output, "loopvol");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CsiDriver.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"no CsiDriver.sln above {AppContext.BaseDirectory}");
    }
}
