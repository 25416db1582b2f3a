using Grpc.Core;
using Loopvol.Core.Faults;
using Loopvol.Csi.V1;
using Loopvol.Tests.Node;

namespace Loopvol.Tests.Groups;

public sealed class GroupSnapshotTests : NodeFixture
{
    [Test]
    public async Task Create_SnapshotsEveryVolume_IsIdempotent_AndMembersBehaveAsSnapshots()
    {
        var volumes = await VolumesAsync(3);

        var group = await CreateGroupAsync("group-1", volumes);
        var again = await CreateGroupAsync("group-1", volumes.AsEnumerable().Reverse().ToList());

        Assert.That(again.GroupSnapshotId, Is.EqualTo(group.GroupSnapshotId));
        Assert.That(group.Snapshots.Select(s => s.SourceVolumeId), Is.EquivalentTo(volumes));
        Assert.That(group.Snapshots.Select(s => s.GroupSnapshotId), Is.All.EqualTo(group.GroupSnapshotId));
        var listed = await Controller<ListSnapshotsResponse>("ListSnapshots", new ListSnapshotsRequest());
        Assert.That(listed.Entries.Select(e => e.Snapshot.GroupSnapshotId), Is.All.EqualTo(group.GroupSnapshotId));
        var member = group.Snapshots[0];
        var delete = Assert.ThrowsAsync<RpcException>(() =>
            Controller<DeleteSnapshotResponse>("DeleteSnapshot", new DeleteSnapshotRequest { SnapshotId = member.SnapshotId }));
        Assert.That(delete!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        var restored = await Controller<CreateVolumeResponse>("CreateVolume", new CreateVolumeRequest
        {
            Name = "restored", VolumeCapabilities = { Mount("ext4") },
            VolumeContentSource = new VolumeContentSource { Snapshot = new() { SnapshotId = member.SnapshotId } },
        });
        Assert.That(restored.Volume.CapacityBytes, Is.EqualTo(member.SizeBytes));
        var got = await Groups<GetVolumeGroupSnapshotResponse>("GetVolumeGroupSnapshot",
            new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId });
        Assert.That(got.GroupSnapshot, Is.EqualTo(group));
    }

    [Test]
    public async Task Create_SameNameOtherVolumes_IsAlreadyExists_UnknownVolumeNotFound_EmptyInvalid()
    {
        var volumes = await VolumesAsync(2);
        await CreateGroupAsync("group-1", volumes);

        Assert.That(Code(() => CreateGroupAsync("group-1", volumes.Take(1).ToList())), Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(Code(() => CreateGroupAsync("group-2", [volumes[0], "vol-00000000-0000-0000-0000-000000000000"])),
            Is.EqualTo(StatusCode.NotFound));
        Assert.That(Code(() => CreateGroupAsync("group-3", [])), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(Code(() => Groups<GetVolumeGroupSnapshotResponse>("GetVolumeGroupSnapshot",
            new GetVolumeGroupSnapshotRequest { GroupSnapshotId = "group-00000000-0000-0000-0000-000000000000" })),
            Is.EqualTo(StatusCode.NotFound));
    }

    [Test]
    public async Task Delete_NeedsExactlyTheMembers_ThenRemovesThemAll_UnknownIsFine()
    {
        var volumes = await VolumesAsync(2);
        var group = await CreateGroupAsync("group-1", volumes);
        var ids = group.Snapshots.Select(s => s.SnapshotId).ToList();

        Assert.That(Code(() => Groups<DeleteVolumeGroupSnapshotResponse>("DeleteVolumeGroupSnapshot",
                new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { ids[0] } })),
            Is.EqualTo(StatusCode.InvalidArgument));
        await Groups<DeleteVolumeGroupSnapshotResponse>("DeleteVolumeGroupSnapshot",
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { ids } });
        await Groups<DeleteVolumeGroupSnapshotResponse>("DeleteVolumeGroupSnapshot",
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { ids } });

        Assert.That((await Controller<ListSnapshotsResponse>("ListSnapshots", new ListSnapshotsRequest())).Entries, Is.Empty);
        Assert.That(ids.Select(id => File.Exists(Path.Combine(Driver.Settings.PoolDirectory, id + ".img"))), Is.All.False);
    }

    [Test]
    public async Task AMemberFails_NoMemberSurvives_FileSystemsAreThawed_AndARetrySucceeds()
    {
        var volumes = await VolumesAsync(3);
        for (var i = 0; i < volumes.Count; i++)
        {
            await StageAsync(volumes[i], Mount("ext4"), Staging($"s{i}"));
        }
        var faults = new FailSecondCopy();
        var quiescer = new Loopvol.NodeHost.MountQuiescer(Driver.Driver.Journal, TimeSpan.FromSeconds(10), NoFaults.Instance);
        var pool = new Loopvol.Pool.StoragePool(Driver.Driver.Journal, Driver.Driver.Pool.Images,
            Driver.Driver.Pool.Options with { Faults = faults });
        var ids = volumes.Select(v => Loopvol.Core.Ids.ObjectId.Parse(v, Loopvol.Core.Ids.ObjectKind.Volume, "v")).ToList();

        Assert.ThrowsAsync<InvalidOperationException>(() => pool.CreateGroupSnapshotAsync("group-1", ids, quiescer, default));

        Assert.That(Driver.Driver.Journal.All(Loopvol.Core.Ids.ObjectKind.Snapshot), Is.Empty, "no member survives");
        Assert.That(Driver.Driver.Journal.All(Loopvol.Core.Ids.ObjectKind.Group), Is.Empty, "the name is free again");
        Assert.That(Directory.GetFiles(Driver.Settings.PoolDirectory, "snap-*"), Is.Empty);
        for (var i = 0; i < volumes.Count; i++)
        {
            var write = Task.Run(() => File.WriteAllText(Path.Combine(Staging($"s{i}"), "after"), "thawed"));
            Assert.That(await Task.WhenAny(write, Task.Delay(5000)), Is.SameAs(write), "the file system must be thawed");
        }
        Assert.That((await CreateGroupAsync("group-1", volumes)).Snapshots, Has.Count.EqualTo(3));
        for (var i = 0; i < volumes.Count; i++)
        {
            await Node<NodeUnstageVolumeResponse>("NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = volumes[i], StagingTargetPath = Staging($"s{i}") });
        }
    }

    private async Task<List<string>> VolumesAsync(int count)
    {
        var volumes = new List<string>();
        for (var i = 0; i < count; i++)
        {
            volumes.Add(await CreateVolumeAsync(Mount("ext4")));
        }
        return volumes;
    }

    private async Task<VolumeGroupSnapshot> CreateGroupAsync(string name, IReadOnlyList<string> volumes) =>
        (await Groups<CreateVolumeGroupSnapshotResponse>("CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest { Name = name, SourceVolumeIds = { volumes } })).GroupSnapshot;

    private Task<T> Groups<T>(string method, Google.Protobuf.IMessage request)
        where T : class, Google.Protobuf.IMessage<T>, new() => Driver.CallAsync<T>("GroupController", method, request);

    private static StatusCode Code(Func<Task> call)
    {
        try
        {
            call().GetAwaiter().GetResult();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    private sealed class FailSecondCopy : IFaultInjector
    {
        private int _copies;

        public void Reached(string point)
        {
            if (point == "create-group.member-copied" && ++_copies == 2)
            {
                throw new InvalidOperationException("the second member's copy failed (injected)");
            }
        }
    }
}
