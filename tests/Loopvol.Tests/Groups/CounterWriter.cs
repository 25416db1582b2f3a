using System.Globalization;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Groups;

/// <summary>
/// Loops over files on several volumes, writing an increasing counter c to each in turn (one write, then fsync), until
/// disposed. A copy of all the volumes taken at one point in time shows a state it passed through: each file holds c
/// or c − 1, never ahead of the one before it (A ≥ B ≥ C ≥ A − 1). Copies not taken at one point in time, over
/// many snapshots, show a later file ahead of an earlier one, or one further behind.
/// </summary>
internal sealed class CounterWriter : IAsyncDisposable
{
    private const int CounterBytes = 20;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writer;
    private long _written;

    public CounterWriter(IReadOnlyList<string> files)
    {
        foreach (var file in files)
        {
            // On disk before the first snapshot: a copy without a freeze would find no file at all.
            using var handle = File.OpenHandle(file, FileMode.Create, FileAccess.Write);
            RandomAccess.Write(handle, System.Text.Encoding.ASCII.GetBytes(new string('0', CounterBytes)), 0);
            RandomAccess.FlushToDisk(handle);
        }
        _writer = Task.Run(() =>
        {
            var handles = files.Select(f => File.OpenHandle(f, FileMode.Open, FileAccess.Write)).ToList();
            try
            {
                for (long c = 1; !_stop.IsCancellationRequested; c++)
                {
                    var bytes = System.Text.Encoding.ASCII.GetBytes(c.ToString("D20", CultureInfo.InvariantCulture));
                    foreach (var handle in handles)
                    {
                        RandomAccess.Write(handle, bytes, 0);
                        RandomAccess.FlushToDisk(handle);
                    }
                    Interlocked.Exchange(ref _written, c);
                }
            }
            finally
            {
                handles.ForEach(h => h.Dispose());
            }
        });
    }

    /// <summary>The last counter written to every file.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Whether counters read from the files in order are a state the writer passed through.</summary>
    public static bool Consistent(IReadOnlyList<long> counters) =>
        counters.Zip(counters.Skip(1)).All(p => p.First >= p.Second) && counters[^1] >= counters[0] - 1;

    /// <summary>
    /// Reads the counter file <paramref name="name"/> from an ext4 image without mounting it. A frozen file system's
    /// journal is checkpointed, so its copy reads as it is; a copy taken unfrozen (<paramref name="replay"/>) is read
    /// from a sparse copy whose journal e2fsck has replayed, as a mount would.
    /// </summary>
    public static async Task<long> ReadAsync(string image, string name = "counter", bool replay = false)
    {
        using var scratch = replay ? new TempDirectory() : null;
        if (scratch is not null)
        {
            var copy = scratch.Combine("image");
            await Processes.RunAsync("cp", ["--sparse=always", image, copy]);
            await Processes.RunExpectingFailureAsync("e2fsck", ["-E", "journal_only", "-y", copy]);
            image = copy;
        }
        var text = (await Processes.RunAsync("debugfs", ["-R", $"cat /{name}", image])).Trim();
        return long.Parse(text, CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _writer;
        _stop.Dispose();
    }
}
