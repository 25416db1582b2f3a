using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Hosting;
using Cap = Loopvol.Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace Loopvol.Tests.Controller;

/// <summary>
/// ControllerModifyVolume and CreateVolume's mutable parameters (provisioning: thick or thin) over the real server;
/// and --max-volumes-per-node in ControllerPublish.
/// </summary>
[TestFixture("xfs")]
public sealed class ModifyVolumeTests(string fsType) : ControllerFixture(fsType)
{
    protected override DriverSettings Customize(DriverSettings settings) =>
        settings with { EnableAttach = true, MaxVolumesPerNode = 2, OvercommitRatio = 8 };

    private static long Allocated(string path) => Loopvol.Tests.Pool.PoolOnFileSystem.Allocated(path);

    [Test]
    public async Task Capabilities_AdvertiseModifyVolume()
    {
        var caps = await Call<ControllerGetCapabilitiesResponse>("ControllerGetCapabilities", new ControllerGetCapabilitiesRequest());

        Assert.That(caps.Capabilities.Select(c => c.Rpc.Type), Does.Contain(Cap.ModifyVolume));
    }

    [Test]
    public async Task CreateVolume_Thick_ReservesItsBlocks_GetCapacityDrops_ModifyThinGivesThemBack()
    {
        var capacity = (await Call<GetCapacityResponse>("GetCapacity", new GetCapacityRequest())).AvailableCapacity;
        var request = NewVolume("pvc-thick", 256 * MiB);
        request.MutableParameters.Add("provisioning", "thick");

        var volume = (await Call<CreateVolumeResponse>("CreateVolume", request)).Volume;
        var retried = (await Call<CreateVolumeResponse>("CreateVolume", request)).Volume;
        var thickCapacity = (await Call<GetCapacityResponse>("GetCapacity", new GetCapacityRequest())).AvailableCapacity;
        var thick = Allocated(ImagePath(volume.VolumeId));
        await Call<ControllerModifyVolumeResponse>("ControllerModifyVolume", new ControllerModifyVolumeRequest
        {
            VolumeId = volume.VolumeId, MutableParameters = { ["provisioning"] = "thin" },
        });

        Assert.Multiple(() =>
        {
            Assert.That(retried.VolumeId, Is.EqualTo(volume.VolumeId));
            Assert.That(thick, Is.GreaterThanOrEqualTo(256 * MiB));
            Assert.That(thickCapacity, Is.LessThanOrEqualTo(capacity - 256 * MiB));
            Assert.That(Allocated(ImagePath(volume.VolumeId)), Is.LessThan(16 * MiB));
        });
    }

    [Test]
    public async Task Modify_EmptyParameters_IsOk_UnknownKeyOrValue_IsInvalidNamingTheField_UnknownVolume_IsNotFound()
    {
        var volume = await CreateAsync("pvc-1");

        await Call<ControllerModifyVolumeResponse>("ControllerModifyVolume", new ControllerModifyVolumeRequest { VolumeId = volume.VolumeId });
        var unknownKey = Error(new() { VolumeId = volume.VolumeId, MutableParameters = { ["XXX_FakeKey"] = "x" } });
        var badValue = Error(new() { VolumeId = volume.VolumeId, MutableParameters = { ["provisioning"] = "fat" } });
        var noId = Error(new() { MutableParameters = { ["provisioning"] = "thin" } });
        var unknown = Error(new() { VolumeId = "vol-00000000-0000-0000-0000-000000000000", MutableParameters = { ["provisioning"] = "thin" } });

        Assert.Multiple(() =>
        {
            Assert.That(unknownKey.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(unknownKey.Status.Detail, Does.Contain("mutable_parameters").And.Contain("XXX_FakeKey"));
            Assert.That(badValue.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(badValue.Status.Detail, Does.Contain("provisioning").And.Contain("fat"));
            Assert.That(noId.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(noId.Status.Detail, Does.Contain("volume_id"));
            Assert.That(unknown.StatusCode, Is.EqualTo(StatusCode.NotFound));
        });
    }

    [Test]
    public async Task CreateVolume_UnknownMutableParameter_IsInvalid_AndMakesNothing()
    {
        var request = NewVolume("pvc-bad");
        request.MutableParameters.Add("XXX_FakeKey", "XXX_FakeValue");

        await AssertCreateFailsAndMakesNothingAsync(request, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task CreateVolume_ThickBeyondTheFreeSpace_IsResourceExhausted_AndLeavesNothing()
    {
        var request = NewVolume("pvc-huge", 4L << 30);
        request.MutableParameters.Add("provisioning", "thick");

        await AssertCreateFailsAndMakesNothingAsync(request, StatusCode.ResourceExhausted);
    }

    [Test]
    public async Task ValidateVolumeCapabilities_UnknownMutableParameter_IsNotConfirmed()
    {
        var volume = await CreateAsync("pvc-1");

        var answer = await Call<ValidateVolumeCapabilitiesResponse>("ValidateVolumeCapabilities", new ValidateVolumeCapabilitiesRequest
        {
            VolumeId = volume.VolumeId, VolumeCapabilities = { Mount() }, MutableParameters = { ["XXX_FakeKey"] = "x" },
        });

        Assert.That(answer.Confirmed, Is.Null);
        Assert.That(answer.Message, Does.Contain("XXX_FakeKey"));
    }

    [Test]
    public async Task Publish_BeyondMaxVolumesPerNode_IsResourceExhausted_ARepeatOrAnUnpublishedSlotIsNot()
    {
        var node = Driver.Settings.NodeId;
        var volumes = new List<Volume>();
        for (var i = 0; i < 3; i++)
        {
            volumes.Add(await CreateAsync($"pvc-{i}"));
        }
        ControllerPublishVolumeRequest Publish(Volume v) => new() { VolumeId = v.VolumeId, NodeId = node, VolumeCapability = Mount() };

        await Call<ControllerPublishVolumeResponse>("ControllerPublishVolume", Publish(volumes[0]));
        await Call<ControllerPublishVolumeResponse>("ControllerPublishVolume", Publish(volumes[1]));
        await Call<ControllerPublishVolumeResponse>("ControllerPublishVolume", Publish(volumes[1]));
        var third = Assert.ThrowsAsync<RpcException>(() => Call<ControllerPublishVolumeResponse>("ControllerPublishVolume", Publish(volumes[2])));
        await Call<ControllerUnpublishVolumeResponse>("ControllerUnpublishVolume",
            new ControllerUnpublishVolumeRequest { VolumeId = volumes[0].VolumeId, NodeId = node });
        await Call<ControllerPublishVolumeResponse>("ControllerPublishVolume", Publish(volumes[2]));
        var info = await Driver.CallAsync<NodeGetInfoResponse>("Node", "NodeGetInfo", new NodeGetInfoRequest());

        Assert.That(third!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(third.Status.Detail, Does.Contain("node_id").And.Contain("2"));
        Assert.That(info.MaxVolumesPerNode, Is.EqualTo(2));
        foreach (var v in volumes.Skip(1))
        {
            await Call<ControllerUnpublishVolumeResponse>("ControllerUnpublishVolume",
                new ControllerUnpublishVolumeRequest { VolumeId = v.VolumeId, NodeId = node });
        }
    }

    private RpcException Error(ControllerModifyVolumeRequest request) =>
        Assert.ThrowsAsync<RpcException>(() => Call<ControllerModifyVolumeResponse>("ControllerModifyVolume", request))!;

    /// <summary>The create fails with <paramref name="code"/>, and neither a volume nor an image is left.</summary>
    private async Task AssertCreateFailsAndMakesNothingAsync(CreateVolumeRequest request, StatusCode code)
    {
        var e = Assert.ThrowsAsync<RpcException>(() => Call<CreateVolumeResponse>("CreateVolume", request));
        var list = await Call<ListVolumesResponse>("ListVolumes", new ListVolumesRequest());

        Assert.That(e!.StatusCode, Is.EqualTo(code));
        Assert.That(list.Entries, Is.Empty);
        Assert.That(Directory.GetFiles(Driver.Settings.PoolDirectory, "*.img"), Is.Empty);
    }
}
