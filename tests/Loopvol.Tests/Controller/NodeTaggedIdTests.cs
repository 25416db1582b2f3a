using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Controller;

/// <summary>
/// IDs carrying a node tag (docs/cluster.md), as a central controller will send them to a node's agent: every call
/// serves an ID tagged with this node as the plain ID, and treats one tagged with another node as an object that is
/// not here (NOT_FOUND, or for a delete the success CSI gives an unknown ID) without touching the object that shares
/// its UUID on this node.
/// </summary>
public sealed class NodeTaggedIdTests
{
    [Test]
    public async Task TaggedWithThisNode_IsServed_TaggedWithAnother_IsNotHere()
    {
        await using var driver = await InProcessDriver.StartAsync(); // node-1
        var volume = (await driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = "pvc-tagged",
            CapacityRange = new CapacityRange { RequiredBytes = 16 << 20 },
            VolumeCapabilities = { ControllerFixture.Mount("ext4") },
        })).Volume.VolumeId;
        var mine = volume + ".node-1";
        var theirs = volume + ".node-2";

        var snapshot = (await driver.CallAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap-tagged", SourceVolumeId = mine })).Snapshot;
        var elsewhere = Assert.ThrowsAsync<RpcException>(() => driver.CallAsync<CreateSnapshotResponse>("Controller",
            "CreateSnapshot", new CreateSnapshotRequest { Name = "snap-elsewhere", SourceVolumeId = theirs }));
        var stage = Assert.ThrowsAsync<RpcException>(() => driver.CallAsync<NodeStageVolumeResponse>("Node", "NodeStageVolume",
            new NodeStageVolumeRequest
            {
                VolumeId = theirs, StagingTargetPath = driver.Settings.DataDirectory + "-staging",
                VolumeCapability = ControllerFixture.Mount("ext4"),
            }));
        await driver.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume", new DeleteVolumeRequest { VolumeId = theirs });
        var listed = await driver.CallAsync<ListSnapshotsResponse>("Controller", "ListSnapshots",
            new ListSnapshotsRequest { SourceVolumeId = mine });

        Assert.That(snapshot.SourceVolumeId, Is.EqualTo(volume), "answers carry the ID as this driver made it");
        Assert.That(elsewhere!.StatusCode, Is.EqualTo(StatusCode.NotFound), elsewhere.Status.Detail);
        Assert.That(stage!.StatusCode, Is.EqualTo(StatusCode.NotFound), stage.Status.Detail);
        Assert.That(stage.Status.Detail, Does.Contain("another node"));
        Assert.That(listed.Entries.Select(e => e.Snapshot.SnapshotId), Is.EqualTo(new[] { snapshot.SnapshotId }));
        Assert.That(driver.Driver.Pool.GetVolume(Loopvol.Core.Ids.ObjectId.Parse(volume, Loopvol.Core.Ids.ObjectKind.Volume, "v")),
            Is.Not.Null, "another node's delete left this node's volume alone");
        Assert.That(Directory.Exists(driver.Settings.DataDirectory + "-staging"), Is.False, "nothing was made for another node's volume");

        await driver.CallAsync<DeleteSnapshotResponse>("Controller", "DeleteSnapshot",
            new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId + ".node-1" });
        await driver.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume", new DeleteVolumeRequest { VolumeId = mine });
        await driver.Driver.Pool.DrainDeletesAsync();
        Assert.That(driver.Driver.Journal.All(), Is.Empty, "tagged with this node, deletes delete");
    }
}
