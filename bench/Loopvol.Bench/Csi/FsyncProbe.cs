using System.Diagnostics;

namespace Loopvol.Bench.Csi;

/// <summary>
/// The fsync latency of the file system holding a directory, measured in the same run as the workloads: a scratch
/// file in it gets <c>samples</c> times 4 KiB appended, each followed by fsync(2) (so each sync writes data and the
/// new size, as a log append does), timed together; the file is removed after.
/// </summary>
internal static class FsyncProbe
{
    public const string Workload = "fsync-probe";
    private const int BlockBytes = 4096;

    /// <summary>Times the samples; the measurement's label names the directory.</summary>
    public static Task<Measurement> MeasureAsync(string directory, int samples, CancellationToken ct) => Task.Run(() =>
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"--fsync-probe {directory}: no such directory");
        }
        var path = Path.Combine(directory, $".loopvol-bench-fsync-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var block = new byte[BlockBytes];
        Random.Shared.NextBytes(block);
        var latencies = new Latencies(samples);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < samples; i++)
            {
                ct.ThrowIfCancellationRequested();
                var start = Stopwatch.GetTimestamp();
                RandomAccess.Write(handle, block, (long)i * BlockBytes);
                RandomAccess.FlushToDisk(handle);
                latencies.Add(Stopwatch.GetElapsedTime(start));
            }
            return Measurement.Of($"write 4 KiB + fsync in {directory}", latencies, clock.Elapsed);
        }
        finally
        {
            File.Delete(path);
        }
    }, ct);
}
