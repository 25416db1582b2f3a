using System.Collections.Concurrent;
using System.Security.Cryptography;
using Grpc.Core;
using Loopvol.Csi.V1;

namespace Loopvol.Tests.Controller;

[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class ControllerBehaviourTests(string fsType) : ControllerFixture(fsType)
{
    [Test]
    public async Task CreateVolume_ReportsSizeTopologyAndContext_AndIsIdempotent()
    {
        var request = NewVolume("pvc-1", 10 * MiB);
        request.Parameters["fsType"] = "xfs";

        var first = (await Call<CreateVolumeResponse>("CreateVolume", request)).Volume;
        var again = (await Call<CreateVolumeResponse>("CreateVolume", request)).Volume;

        Assert.That(again, Is.EqualTo(first));
        Assert.That(first.CapacityBytes, Is.EqualTo(300 * MiB), "an xfs volume is never smaller than mkfs.xfs allows");
        Assert.That(first.AccessibleTopology.Single().Segments["topology.loopvol.csi.dev/node"], Is.EqualTo("node-1"));
        Assert.That(first.VolumeContext["fsType"], Is.EqualTo("xfs"));
    }

    [Test]
    public async Task CreateVolume_SameNameOtherSizeOrCapability_IsAlreadyExists()
    {
        await CreateAsync("pvc-1", 10 * MiB);

        var size = Assert.ThrowsAsync<RpcException>(() => CreateAsync("pvc-1", 20 * MiB));
        var block = Assert.ThrowsAsync<RpcException>(() => CreateAsync("pvc-1", 10 * MiB, Block()));

        Assert.That(size!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(block!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(block.Status.Detail, Does.Contain("capabilities"));
    }

    [Test]
    public async Task RestoreAndClones_OverTheSocket_HoldTheRightData()
    {
        var volume = await CreateAsync("pvc-1", 32 * MiB);
        WriteImage(volume.VolumeId, 0, 1);
        var original = Sha(volume.VolumeId);
        var snapshot = (await Call<CreateSnapshotResponse>("CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap-1", SourceVolumeId = volume.VolumeId })).Snapshot;
        WriteImage(volume.VolumeId, 0, 2);

        var restored = await Call<CreateVolumeResponse>("CreateVolume", WithSource(NewVolume("restored", 32 * MiB),
            new VolumeContentSource { Snapshot = new() { SnapshotId = snapshot.SnapshotId } }));
        var clone = await Call<CreateVolumeResponse>("CreateVolume", WithSource(NewVolume("clone", 32 * MiB),
            new VolumeContentSource { Volume = new() { VolumeId = volume.VolumeId } }));
        var cloneOfSnapshotClone = await Call<CreateVolumeResponse>("CreateVolume", WithSource(NewVolume("clone2", 32 * MiB),
            new VolumeContentSource { Volume = new() { VolumeId = restored.Volume.VolumeId } }));

        Assert.That(snapshot.ReadyToUse, Is.True);
        Assert.That(snapshot.SizeBytes, Is.EqualTo(32 * MiB));
        Assert.That(Sha(restored.Volume.VolumeId), Is.EqualTo(original));
        Assert.That(Sha(cloneOfSnapshotClone.Volume.VolumeId), Is.EqualTo(original));
        Assert.That(Sha(clone.Volume.VolumeId), Is.EqualTo(Sha(volume.VolumeId)).And.Not.EqualTo(original));
        Assert.That(restored.Volume.ContentSource.Snapshot.SnapshotId, Is.EqualTo(snapshot.SnapshotId));
    }

    [Test]
    public async Task Snapshots_ListFilterGetAndDelete()
    {
        var a = await CreateAsync("a");
        var b = await CreateAsync("b");
        var sa = (await Call<CreateSnapshotResponse>("CreateSnapshot", new CreateSnapshotRequest { Name = "sa", SourceVolumeId = a.VolumeId })).Snapshot;
        var sb = (await Call<CreateSnapshotResponse>("CreateSnapshot", new CreateSnapshotRequest { Name = "sb", SourceVolumeId = b.VolumeId })).Snapshot;

        var all = await Call<ListSnapshotsResponse>("ListSnapshots", new ListSnapshotsRequest());
        var page = await Call<ListSnapshotsResponse>("ListSnapshots", new ListSnapshotsRequest { MaxEntries = 1 });
        var rest = await Call<ListSnapshotsResponse>("ListSnapshots", new ListSnapshotsRequest { StartingToken = page.NextToken });
        var bySource = await Call<ListSnapshotsResponse>("ListSnapshots", new ListSnapshotsRequest { SourceVolumeId = b.VolumeId });
        var byId = await Call<ListSnapshotsResponse>("ListSnapshots", new ListSnapshotsRequest { SnapshotId = sa.SnapshotId });
        var unknown = await Call<ListSnapshotsResponse>("ListSnapshots", new ListSnapshotsRequest { SnapshotId = "fake" });
        var got = await Call<GetSnapshotResponse>("GetSnapshot", new GetSnapshotRequest { SnapshotId = sb.SnapshotId });

        Assert.That(all.Entries.Select(e => e.Snapshot.SnapshotId), Is.EqualTo(new[] { sa.SnapshotId, sb.SnapshotId }));
        Assert.That(page.Entries.Select(e => e.Snapshot.SnapshotId).Concat(rest.Entries.Select(e => e.Snapshot.SnapshotId)),
            Is.EqualTo(new[] { sa.SnapshotId, sb.SnapshotId }));
        Assert.That(bySource.Entries.Single().Snapshot.SnapshotId, Is.EqualTo(sb.SnapshotId));
        Assert.That(byId.Entries.Single().Snapshot.SnapshotId, Is.EqualTo(sa.SnapshotId));
        Assert.That(unknown.Entries, Is.Empty);
        Assert.That(got.Snapshot, Is.EqualTo(sb));

        await Call<DeleteSnapshotResponse>("DeleteSnapshot", new DeleteSnapshotRequest { SnapshotId = sa.SnapshotId });
        Assert.That((await Call<ListSnapshotsResponse>("ListSnapshots", new ListSnapshotsRequest())).Entries, Has.Count.EqualTo(1));
        Assert.That(File.Exists(ImagePath(sa.SnapshotId)), Is.False);
    }

    [Test]
    public async Task Expand_MountNeedsNodeExpansion_BlockDoesNot_SizeIsExact()
    {
        var mount = await CreateAsync("m", 16 * MiB);
        var block = await CreateAsync("b", 16 * MiB, Block());

        var m = await Call<ControllerExpandVolumeResponse>("ControllerExpandVolume",
            new ControllerExpandVolumeRequest { VolumeId = mount.VolumeId, CapacityRange = new() { RequiredBytes = 48 * MiB } });
        var b = await Call<ControllerExpandVolumeResponse>("ControllerExpandVolume",
            new ControllerExpandVolumeRequest { VolumeId = block.VolumeId, CapacityRange = new() { RequiredBytes = 48 * MiB } });

        Assert.That((m.CapacityBytes, m.NodeExpansionRequired), Is.EqualTo((48 * MiB, true)));
        Assert.That((b.CapacityBytes, b.NodeExpansionRequired), Is.EqualTo((48 * MiB, false)));
        Assert.That(new FileInfo(ImagePath(mount.VolumeId)).Length, Is.EqualTo(48 * MiB));
    }

    [Test]
    public async Task ListAndGetVolume_ReportTheConditionOfTheImage()
    {
        var healthy = await CreateAsync("healthy");
        var broken = await CreateAsync("broken");
        File.Delete(ImagePath(broken.VolumeId));

        var list = await Call<ListVolumesResponse>("ListVolumes", new ListVolumesRequest());
        var get = await Call<ControllerGetVolumeResponse>("ControllerGetVolume", new ControllerGetVolumeRequest { VolumeId = broken.VolumeId });

        Assert.That(list.Entries.Select(e => (e.Volume.VolumeId, e.Status.VolumeCondition.Abnormal)),
            Is.EqualTo(new[] { (healthy.VolumeId, false), (broken.VolumeId, true) }));
        Assert.That(get.Status.VolumeCondition.Message, Does.Contain("missing"));
    }

    [Test]
    public async Task GetCapacity_IsWhatThePoolCanHold_AndNothingForAnotherNode()
    {
        var here = await Call<GetCapacityResponse>("GetCapacity", new GetCapacityRequest { VolumeCapabilities = { Mount() } });
        await CreateAsync("pvc-1", 256 * MiB);
        var after = await Call<GetCapacityResponse>("GetCapacity", new GetCapacityRequest());
        var elsewhere = await Call<GetCapacityResponse>("GetCapacity", new GetCapacityRequest
        {
            AccessibleTopology = new Topology { Segments = { ["topology.loopvol.csi.dev/node"] = "other" } },
        });

        Assert.That(here.AvailableCapacity, Is.GreaterThan(1L << 30).And.LessThanOrEqualTo(2L << 30));
        Assert.That(after.AvailableCapacity, Is.LessThanOrEqualTo(here.AvailableCapacity));
        Assert.That(elsewhere.AvailableCapacity, Is.Zero);
    }

    [Test]
    public async Task ModifyVolume_AnyMutableParameter_IsInvalidArgumentNamingIt()
    {
        var volume = await CreateAsync("pvc-1");

        var error = Assert.ThrowsAsync<RpcException>(() => Call<ControllerModifyVolumeResponse>("ControllerModifyVolume",
            new ControllerModifyVolumeRequest { VolumeId = volume.VolumeId, MutableParameters = { ["iops"] = "100" } }));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain("iops"));
        Assert.DoesNotThrowAsync(() => Call<ControllerModifyVolumeResponse>("ControllerModifyVolume",
            new ControllerModifyVolumeRequest { VolumeId = volume.VolumeId }));
    }

    [Test]
    public async Task ParallelCreates_FewNames_ExactlyOneVolumePerName_OthersOkOrAborted()
    {
        var codes = new ConcurrentBag<StatusCode>();
        var ids = new ConcurrentDictionary<string, ConcurrentBag<string>>();

        await Task.WhenAll(Enumerable.Range(0, 48).Select(async i =>
        {
            var name = $"pvc-{i % 4}";
            try
            {
                var volume = await CreateAsync(name);
                ids.GetOrAdd(name, _ => []).Add(volume.VolumeId);
                codes.Add(StatusCode.OK);
            }
            catch (RpcException e)
            {
                codes.Add(e.StatusCode);
            }
        }));

        Assert.That(codes.Distinct(), Is.SubsetOf(new[] { StatusCode.OK, StatusCode.Aborted }));
        Assert.That(ids.Values.Select(v => v.Distinct().Count()), Is.All.EqualTo(1));
        Assert.That(Driver.Driver.Journal.All(), Has.Count.EqualTo(ids.Count));
        Assert.That(Directory.GetFiles(Driver.Settings.PoolDirectory, "*.img"), Has.Length.EqualTo(ids.Count));
    }

    private static CreateVolumeRequest WithSource(CreateVolumeRequest request, VolumeContentSource source)
    {
        request.VolumeContentSource = source;
        return request;
    }

    private void WriteImage(string id, long offset, int seed)
    {
        var data = new byte[MiB];
        new Random(seed).NextBytes(data);
        using var handle = File.OpenHandle(ImagePath(id), FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, data, offset);
        RandomAccess.FlushToDisk(handle);
    }

    private string Sha(string id)
    {
        using var stream = File.OpenRead(ImagePath(id));
        return Convert.ToHexString(SHA256.HashData(stream));
    }
}
