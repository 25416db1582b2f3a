using Loopvol.Csi.V1;
using Loopvol.Tests.Node;

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
        var seen = new List<long[]>();
        var writer = new CounterWriter(files);
        await using (writer)
        {
            for (var i = 0; i < Snapshots; i++)
            {
                var group = (await Driver.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
                    new CreateVolumeGroupSnapshotRequest { Name = $"g-{i}", SourceVolumeIds = { volumes } })).GroupSnapshot;
                var bySource = group.Snapshots.ToDictionary(s => s.SourceVolumeId, s => s.SnapshotId);
                var counters = new long[3];
                for (var v = 0; v < 3; v++)
                {
                    counters[v] = await CounterWriter.ReadAsync(Path.Combine(Driver.Settings.PoolDirectory, bySource[volumes[v]] + ".img"));
                }
                seen.Add(counters);
                await Driver.CallAsync<DeleteVolumeGroupSnapshotResponse>("GroupController", "DeleteVolumeGroupSnapshot",
                    new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { bySource.Values } });
            }
        }

        var broken = seen.Where(s => !CounterWriter.Consistent(s)).Select(s => string.Join(",", s)).ToList();
        Assert.That(broken, Is.Empty, $"states no writer passed through: {string.Join("; ", broken.Take(5))}");
        Assert.That(seen.Select(s => s[0]).Distinct().Count(), Is.GreaterThan(Snapshots / 4),
            $"the writer must really have been writing during the snapshots (it reached {writer.Written})");
        for (var i = 0; i < 3; i++)
        {
            await Node<NodeUnstageVolumeResponse>("NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = volumes[i], StagingTargetPath = Staging($"s{i}") });
        }
    }
}
