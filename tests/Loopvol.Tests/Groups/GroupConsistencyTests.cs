using System.Globalization;
using Loopvol.Csi.V1;
using Loopvol.Tests.Node;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Groups;

/// <summary>
/// A writer loops over volumes A, B and C, writing an increasing counter c to each (one write, then fsync) while
/// group snapshots are taken. Every group snapshot must show a state the writer really passed through:
/// A ≥ B ≥ C ≥ A − 1. Copies that were not taken at one point in time would, over hundreds of snapshots, show
/// a B or C ahead of A, or further behind.
/// </summary>
public sealed class GroupConsistencyTests : NodeFixture
{
    private const int Snapshots = 200;
    private const int CounterBytes = 20;

    [Test]
    public async Task HundredsOfGroupSnapshotsUnderLoad_EveryOneIsAStateTheWriterPassedThrough()
    {
        var volumes = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var volume = await CreateVolumeAsync(Mount("ext4"));
            await StageAsync(volume, Mount("ext4"), Staging($"s{i}"));
            volumes.Add(volume);
        }
        var files = Enumerable.Range(0, 3).Select(i => Path.Combine(Staging($"s{i}"), "counter")).ToList();
        files.ForEach(f => File.WriteAllText(f, new string('0', CounterBytes)));
        using var stop = new CancellationTokenSource();
        long written = 0;
        var writer = Task.Run(() =>
        {
            var handles = files.Select(f => File.OpenHandle(f, FileMode.Open, FileAccess.Write)).ToList();
            try
            {
                for (long c = 1; !stop.IsCancellationRequested; c++)
                {
                    var bytes = System.Text.Encoding.ASCII.GetBytes(c.ToString("D20", CultureInfo.InvariantCulture));
                    foreach (var handle in handles)
                    {
                        RandomAccess.Write(handle, bytes, 0);
                        RandomAccess.FlushToDisk(handle);
                    }
                    Interlocked.Exchange(ref written, c);
                }
            }
            finally
            {
                handles.ForEach(h => h.Dispose());
            }
        });

        var seen = new List<(long A, long B, long C)>();
        try
        {
            for (var i = 0; i < Snapshots; i++)
            {
                var group = (await Driver.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
                    new CreateVolumeGroupSnapshotRequest { Name = $"g-{i}", SourceVolumeIds = { volumes } })).GroupSnapshot;
                var bySource = group.Snapshots.ToDictionary(s => s.SourceVolumeId, s => s.SnapshotId);
                var counters = new long[3];
                for (var v = 0; v < 3; v++)
                {
                    counters[v] = await ReadCounterAsync(Path.Combine(Driver.Settings.PoolDirectory, bySource[volumes[v]] + ".img"));
                }
                seen.Add((counters[0], counters[1], counters[2]));
                await Driver.CallAsync<DeleteVolumeGroupSnapshotResponse>("GroupController", "DeleteVolumeGroupSnapshot",
                    new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { bySource.Values } });
            }
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }

        var broken = seen.Where(s => !(s.A >= s.B && s.B >= s.C && s.C >= s.A - 1)).ToList();
        Assert.That(broken, Is.Empty, $"states no writer passed through: {string.Join("; ", broken.Take(5))}");
        Assert.That(seen.Select(s => s.A).Distinct().Count(), Is.GreaterThan(Snapshots / 4),
            $"the writer must really have been writing during the snapshots (it reached {Interlocked.Read(ref written)})");
        for (var i = 0; i < 3; i++)
        {
            await Node<NodeUnstageVolumeResponse>("NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = volumes[i], StagingTargetPath = Staging($"s{i}") });
        }
    }

    /// <summary>Reads /counter from an ext4 image without mounting it.</summary>
    private static async Task<long> ReadCounterAsync(string image)
    {
        var text = (await Processes.RunAsync("debugfs", ["-R", "cat /counter", image])).Trim();
        return long.Parse(text, CultureInfo.InvariantCulture);
    }
}
