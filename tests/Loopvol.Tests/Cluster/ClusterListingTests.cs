using Grpc.Core;
using Loopvol.Csi.V1;
using static Loopvol.Tests.Cluster.ClusterRoutingTests;

namespace Loopvol.Tests.Cluster;

/// <summary>Listings through the controller: every agent's objects, each exactly once, page by page.</summary>
public sealed class ClusterListingTests
{
    [Test]
    public async Task PagesOverThreeNodes_ListEveryObjectOnce_ATokenNotMadeHereIsAborted()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        var made = new List<string>();
        foreach (var (node, count) in new[] { ("node-a", 3), ("node-c", 4) }) // node-b holds none
        {
            for (var i = 0; i < count; i++)
            {
                made.Add((await CreateAsync(cluster, $"pvc-{node}-{i}", Preferring(node))).VolumeId);
            }
        }
        var snapshots = new List<string>();
        foreach (var volume in made.Take(2).Append(made[^1]))
        {
            snapshots.Add((await cluster.CallAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
                new CreateSnapshotRequest { Name = "snap-" + volume[..12], SourceVolumeId = volume })).Snapshot.SnapshotId);
        }

        var pages = new List<List<string>>();
        var token = "";
        do
        {
            var page = await cluster.CallAsync<ListVolumesResponse>("Controller", "ListVolumes",
                new ListVolumesRequest { MaxEntries = 2, StartingToken = token });
            pages.Add([.. page.Entries.Select(e => e.Volume.VolumeId)]);
            token = page.NextToken;
        }
        while (token.Length > 0 && pages.Count < 20);
        var whole = await cluster.CallAsync<ListVolumesResponse>("Controller", "ListVolumes", new ListVolumesRequest());
        var snapshotPages = new List<string>();
        token = "";
        do
        {
            var page = await cluster.CallAsync<ListSnapshotsResponse>("Controller", "ListSnapshots",
                new ListSnapshotsRequest { MaxEntries = 1, StartingToken = token });
            snapshotPages.AddRange(page.Entries.Select(e => e.Snapshot.SnapshotId));
            token = page.NextToken;
        }
        while (token.Length > 0 && snapshotPages.Count < 20);
        var ofOne = await cluster.CallAsync<ListSnapshotsResponse>("Controller", "ListSnapshots",
            new ListSnapshotsRequest { SourceVolumeId = made[^1] });
        var foreign = Assert.ThrowsAsync<RpcException>(() => cluster.CallAsync<ListVolumesResponse>("Controller", "ListVolumes",
            new ListVolumesRequest { StartingToken = "not-a-token" }));
        var negative = Assert.ThrowsAsync<RpcException>(() => cluster.CallAsync<ListVolumesResponse>("Controller", "ListVolumes",
            new ListVolumesRequest { MaxEntries = -1 }));

        var listed = pages.SelectMany(p => p).ToList();
        Assert.That(listed, Is.EquivalentTo(made), "every volume, each once");
        Assert.That(pages, Has.All.Count.LessThanOrEqualTo(2));
        Assert.That(whole.Entries.Select(e => e.Volume.VolumeId), Is.EquivalentTo(made));
        Assert.That(whole.NextToken, Is.Empty);
        Assert.That(snapshotPages, Is.EquivalentTo(snapshots));
        Assert.That(ofOne.Entries.Select(e => e.Snapshot.SnapshotId), Is.EqualTo(new[] { snapshots[^1] }));
        Assert.That(foreign!.StatusCode, Is.EqualTo(StatusCode.Aborted), foreign.Status.Detail);
        Assert.That(negative!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(negative.Status.Detail, Does.Contain("max_entries"));
    }
}
