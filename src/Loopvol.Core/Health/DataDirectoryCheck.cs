namespace Loopvol.Core.Health;

/// <summary>
/// Ready when the data directory exists and a file can be written, synced and removed in it. A full file system
/// (ENOSPC, EDQUOT) is still ready: a driver restarted for it could not serve the deletes that free space.
/// </summary>
public sealed class DataDirectoryCheck(string dataDirectory) : IReadinessCheck
{
    public string Name => "data directory";

    public async ValueTask<string?> CheckAsync(CancellationToken cancellationToken)
    {
        var probe = Path.Combine(dataDirectory, $".probe-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}");
        try
        {
            await using (var stream = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1,
                             FileOptions.WriteThrough))
            {
                await stream.WriteAsync(new byte[] { 1 }, cancellationToken).ConfigureAwait(false);
            }
            File.Delete(probe);
            return null;
        }
        catch (IOException e) when (Native.Errno.IsNoSpace(e))
        {
            // Full, not broken: the driver must stay up to serve the deletes that free space.
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"data directory {dataDirectory} is not writable: {e.Message}";
        }
    }
}
