using Grpc.Core;
using Loopvol.Csi.V1;
using Mode = Loopvol.Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace Loopvol.Tests.Controller;

/// <summary>Every bad request is refused before any side effect, with the CSI status and a message naming the field.</summary>
[TestFixture("ext4")]
public sealed class ControllerValidationTests(string fsType) : ControllerFixture(fsType)
{
    private static IEnumerable<TestCaseData> BadCreates()
    {
        TestCaseData Case(string name, Action<CreateVolumeRequest> spoil, StatusCode code, string field) =>
            new TestCaseData(spoil, code, field).SetName($"CreateVolume_{name}_Is{code}");
        yield return Case("NoName", r => r.Name = "", StatusCode.InvalidArgument, "name");
        yield return Case("NoCapabilities", r => r.VolumeCapabilities.Clear(), StatusCode.InvalidArgument, "volume_capabilities");
        yield return Case("NoAccessType", r => r.VolumeCapabilities[0].Mount = null, StatusCode.InvalidArgument, "access_type");
        yield return Case("NoAccessMode", r => r.VolumeCapabilities[0].AccessMode = null, StatusCode.InvalidArgument, "access_mode");
        yield return Case("MultiNodeMode", r => r.VolumeCapabilities[0].AccessMode.Mode = Mode.MultiNodeMultiWriter,
            StatusCode.InvalidArgument, "access_mode");
        yield return Case("UnknownFsType", r => r.VolumeCapabilities[0].Mount.FsType = "ntfs", StatusCode.InvalidArgument, "fs_type");
        yield return Case("UnknownParameter", r => r.Parameters["colour"] = "blue", StatusCode.InvalidArgument, "colour");
        yield return Case("BadFsTypeParameter", r => r.Parameters["fsType"] = "zfs", StatusCode.InvalidArgument, "fsType");
        yield return Case("FsTypeContradiction", r =>
        {
            r.Parameters["fsType"] = "xfs";
            r.VolumeCapabilities[0].Mount.FsType = "ext4";
        }, StatusCode.InvalidArgument, "contradicts");
        yield return Case("NegativeRange", r => r.CapacityRange.RequiredBytes = -1, StatusCode.InvalidArgument, "capacity_range");
        yield return Case("RequiredAboveLimit", r => r.CapacityRange.LimitBytes = 1024, StatusCode.OutOfRange, "limit_bytes");
        yield return Case("MissingSnapshotSource", r => r.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new() { SnapshotId = "snap-00000000-0000-0000-0000-000000000000" },
        }, StatusCode.NotFound, "snap-");
        yield return Case("MalformedVolumeSource", r => r.VolumeContentSource = new VolumeContentSource
        {
            Volume = new() { VolumeId = "../../etc" },
        }, StatusCode.NotFound, "../../etc");
        yield return Case("TopologyElsewhere", r => r.AccessibilityRequirements = new TopologyRequirement
        {
            Requisite = { new Topology { Segments = { ["topology.loopvol.csi.dev/node"] = "other-node" } } },
        }, StatusCode.ResourceExhausted, "accessibility_requirements");
    }

    [TestCaseSource(nameof(BadCreates))]
    public void BadCreateVolume_IsRefused_AndCreatesNothing(Action<CreateVolumeRequest> spoil, StatusCode code, string field)
    {
        var request = NewVolume("pvc-bad");
        spoil(request);

        var error = Assert.ThrowsAsync<RpcException>(() => Call<CreateVolumeResponse>("CreateVolume", request));

        Assert.That(error!.StatusCode, Is.EqualTo(code), error.Status.Detail);
        Assert.That(error.Status.Detail, Does.Contain(field));
        Assert.That(Driver.Driver.Journal.All(), Is.Empty, "nothing may be reserved");
        Assert.That(Directory.EnumerateFiles(Driver.Settings.PoolDirectory, "*.img"), Is.Empty, "no image may be made");
    }

    private static IEnumerable<TestCaseData> MissingIds()
    {
        yield return new TestCaseData("DeleteVolume", new DeleteVolumeRequest(), "volume_id");
        yield return new TestCaseData("ValidateVolumeCapabilities", new ValidateVolumeCapabilitiesRequest { VolumeCapabilities = { Mount() } }, "volume_id");
        yield return new TestCaseData("ValidateVolumeCapabilities", new ValidateVolumeCapabilitiesRequest { VolumeId = "vol-x" }, "volume_capabilities");
        yield return new TestCaseData("CreateSnapshot", new CreateSnapshotRequest { SourceVolumeId = "vol-x" }, "name");
        yield return new TestCaseData("CreateSnapshot", new CreateSnapshotRequest { Name = "s" }, "source_volume_id");
        yield return new TestCaseData("DeleteSnapshot", new DeleteSnapshotRequest(), "snapshot_id");
        yield return new TestCaseData("GetSnapshot", new GetSnapshotRequest(), "snapshot_id");
        yield return new TestCaseData("ControllerExpandVolume", new ControllerExpandVolumeRequest { CapacityRange = new() }, "volume_id");
        yield return new TestCaseData("ControllerExpandVolume", new ControllerExpandVolumeRequest { VolumeId = "vol-x" }, "capacity_range");
        yield return new TestCaseData("ControllerGetVolume", new ControllerGetVolumeRequest(), "volume_id");
        yield return new TestCaseData("ControllerModifyVolume", new ControllerModifyVolumeRequest(), "volume_id");
        yield return new TestCaseData("ListVolumes", new ListVolumesRequest { MaxEntries = -1 }, "max_entries");
    }

    [TestCaseSource(nameof(MissingIds))]
    public void MissingRequiredField_IsInvalidArgumentNamingIt(string method, Google.Protobuf.IMessage request, string field)
    {
        var error = Assert.ThrowsAsync<RpcException>(() => Driver.Client.UnaryAsync<Google.Protobuf.WellKnownTypes.Empty>(
            "Controller", method, request));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain(field));
    }

    [TestCase("vol-00000000-0000-0000-0000-000000000000")]
    [TestCase("fake-vol-id")]
    public void UnknownVolume_IsNotFound_ForLookups_AndDeleteSucceeds(string id)
    {
        Assert.That(Assert.ThrowsAsync<RpcException>(() => Call<ValidateVolumeCapabilitiesResponse>("ValidateVolumeCapabilities",
            new ValidateVolumeCapabilitiesRequest { VolumeId = id, VolumeCapabilities = { Mount() } }))!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(Assert.ThrowsAsync<RpcException>(() => Call<ControllerGetVolumeResponse>("ControllerGetVolume",
            new ControllerGetVolumeRequest { VolumeId = id }))!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(Assert.ThrowsAsync<RpcException>(() => Call<ControllerExpandVolumeResponse>("ControllerExpandVolume",
            new ControllerExpandVolumeRequest { VolumeId = id, CapacityRange = new() { RequiredBytes = 1 } }))!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.DoesNotThrowAsync(() => Call<DeleteVolumeResponse>("DeleteVolume", new DeleteVolumeRequest { VolumeId = id }));
        Assert.DoesNotThrowAsync(() => Call<DeleteSnapshotResponse>("DeleteSnapshot", new DeleteSnapshotRequest { SnapshotId = id }));
    }

    [Test]
    public void ListVolumes_TokenNotIssued_IsAborted()
    {
        var error = Assert.ThrowsAsync<RpcException>(() =>
            Call<ListVolumesResponse>("ListVolumes", new ListVolumesRequest { StartingToken = "invalid-token" }));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Aborted));
    }
}
