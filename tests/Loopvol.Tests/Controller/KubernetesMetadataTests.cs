using Grpc.Core;
using Loopvol.Csi.V1;

namespace Loopvol.Tests.Controller;

/// <summary>
/// What external-provisioner and csi-snapshotter send with --extra-create-metadata, as the project's manifests run
/// them: accepted, never part of what defines the object, and nothing else under the reserved prefix.
/// </summary>
public sealed class KubernetesMetadataTests() : ControllerFixture("xfs")
{
    private static Dictionary<string, string> Pvc(string claim) => new()
    {
        ["csi.storage.k8s.io/pvc/name"] = claim,
        ["csi.storage.k8s.io/pvc/namespace"] = "default",
        ["csi.storage.k8s.io/pv/name"] = "pvc-0c1d2e3f",
    };

    [Test]
    public async Task CreateVolume_AcceptsThePvcKeys_AndARetryWithOtherMetadataIsTheSameVolume()
    {
        var first = NewVolume("pvc-0c1d2e3f");
        first.Parameters.Add(Pvc("data"));
        var again = NewVolume("pvc-0c1d2e3f");
        again.Parameters.Add(Pvc("renamed"));

        var made = await Call<CreateVolumeResponse>("CreateVolume", first);
        var retried = await Call<CreateVolumeResponse>("CreateVolume", again);

        Assert.That(retried.Volume.VolumeId, Is.EqualTo(made.Volume.VolumeId));
        var id = Loopvol.Core.Ids.ObjectId.Parse(made.Volume.VolumeId, Loopvol.Core.Ids.ObjectKind.Volume, "id");
        var record = Driver.Driver.Journal.Get(id)!;
        Assert.That(record.Arguments.Parameters, Is.Empty, "the metadata never defines the volume");
        Assert.That(Loopvol.Journal.Model.KubernetesNames.Describe(Driver.Driver.Journal.KubernetesNamesOf(id)),
            Is.EqualTo("PVC default/renamed, PV pvc-0c1d2e3f"), "the latest names are recorded for operators");
    }

    [TestCase("csi.storage.k8s.io/fstype")]
    [TestCase("csi.storage.k8s.io/provisioner-secret-name")]
    [TestCase("csi.storage.k8s.io/pod.name")]
    [TestCase("color")]
    public void CreateVolume_OtherKeys_AreInvalidArguments_NamingTheKey(string key)
    {
        var request = NewVolume("pvc-bad");
        request.Parameters.Add(key, "x");

        var error = Assert.ThrowsAsync<RpcException>(() => Call<CreateVolumeResponse>("CreateVolume", request));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain(key));
        Assert.That(Driver.Driver.Journal.All(), Is.Empty, "nothing was reserved");
    }

    [Test]
    public async Task CreateSnapshot_AndGroupSnapshot_AcceptTheSnapshotterKeys_AndRefuseOthers()
    {
        var volume = (await CreateAsync("pvc-src")).VolumeId;
        CreateSnapshotRequest Snapshot(string content) => new()
        {
            Name = "snapshot-1", SourceVolumeId = volume,
            Parameters =
            {
                ["csi.storage.k8s.io/volumesnapshot/name"] = "snap-a",
                ["csi.storage.k8s.io/volumesnapshot/namespace"] = "default",
                ["csi.storage.k8s.io/volumesnapshotcontent/name"] = content,
            },
        };
        var made = await Call<CreateSnapshotResponse>("CreateSnapshot", Snapshot("snapcontent-1"));
        var retried = await Call<CreateSnapshotResponse>("CreateSnapshot", Snapshot("snapcontent-other"));
        Assert.That(retried.Snapshot.SnapshotId, Is.EqualTo(made.Snapshot.SnapshotId));
        Assert.That(Loopvol.Journal.Model.KubernetesNames.Describe(Driver.Driver.Journal.KubernetesNamesOf(
                Loopvol.Core.Ids.ObjectId.Parse(made.Snapshot.SnapshotId, Loopvol.Core.Ids.ObjectKind.Snapshot, "id"))),
            Is.EqualTo("VolumeSnapshot default/snap-a, VolumeSnapshotContent snapcontent-other"));

        var wrong = Snapshot("c");
        wrong.Parameters.Add("csi.storage.k8s.io/pvc/name", "data");
        var refused = Assert.ThrowsAsync<RpcException>(() => Call<CreateSnapshotResponse>("CreateSnapshot", wrong));
        Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(refused.Status.Detail, Does.Contain("csi.storage.k8s.io/pvc/name"));

        var group = await Driver.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest
            {
                Name = "group-1", SourceVolumeIds = { volume },
                Parameters =
                {
                    ["csi.storage.k8s.io/volumegroupsnapshot/name"] = "gsnap",
                    ["csi.storage.k8s.io/volumegroupsnapshot/namespace"] = "default",
                    ["csi.storage.k8s.io/volumegroupsnapshotcontent/name"] = "groupsnapcontent-1",
                },
            });
        Assert.That(group.GroupSnapshot.Snapshots, Has.Count.EqualTo(1));
        var groupRefused = Assert.ThrowsAsync<RpcException>(() => Driver.CallAsync<CreateVolumeGroupSnapshotResponse>(
            "GroupController", "CreateVolumeGroupSnapshot", new CreateVolumeGroupSnapshotRequest
            {
                Name = "group-2", SourceVolumeIds = { volume }, Parameters = { ["consistency"] = "crash" },
            }));
        Assert.That(groupRefused!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(groupRefused.Status.Detail, Does.Contain("consistency"));
    }
}
