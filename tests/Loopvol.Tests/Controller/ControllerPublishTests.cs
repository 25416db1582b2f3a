using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Hosting;
using Cap = Loopvol.Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace Loopvol.Tests.Controller;

/// <summary>ControllerPublish/Unpublish with --enable-attach.</summary>
[TestFixture("ext4")]
public sealed class ControllerPublishTests(string fsType) : ControllerFixture(fsType)
{
    protected override DriverSettings Customize(DriverSettings settings) => settings with { EnableAttach = true };

    [Test]
    public async Task Capabilities_AdvertisePublish()
    {
        var caps = await Call<ControllerGetCapabilitiesResponse>("ControllerGetCapabilities", new ControllerGetCapabilitiesRequest());

        Assert.That(caps.Capabilities.Select(c => c.Rpc.Type),
            Is.SupersetOf(new[] { Cap.PublishUnpublishVolume, Cap.PublishReadonly, Cap.ListVolumesPublishedNodes }));
    }

    [Test]
    public async Task Publish_RepeatIsOk_OtherReadonlyIsAlreadyExists_ListShowsTheNode_DeleteRefusedUntilUnpublished()
    {
        var volume = await CreateAsync("pvc-1");
        var publish = new ControllerPublishVolumeRequest { VolumeId = volume.VolumeId, NodeId = "node-1", VolumeCapability = Mount() };

        await Call<ControllerPublishVolumeResponse>("ControllerPublishVolume", publish);
        await Call<ControllerPublishVolumeResponse>("ControllerPublishVolume", publish);
        publish.Readonly = true;
        var conflict = Assert.ThrowsAsync<RpcException>(() => Call<ControllerPublishVolumeResponse>("ControllerPublishVolume", publish));
        var list = await Call<ListVolumesResponse>("ListVolumes", new ListVolumesRequest());
        var got = await Call<ControllerGetVolumeResponse>("ControllerGetVolume", new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });
        var delete = Assert.ThrowsAsync<RpcException>(() =>
            Call<DeleteVolumeResponse>("DeleteVolume", new DeleteVolumeRequest { VolumeId = volume.VolumeId }));

        Assert.That(conflict!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(list.Entries.Single().Status.PublishedNodeIds, Is.EqualTo(new[] { "node-1" }));
        Assert.That(got.Status.PublishedNodeIds, Is.EqualTo(new[] { "node-1" }));
        Assert.That(delete!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));

        await Call<ControllerUnpublishVolumeResponse>("ControllerUnpublishVolume",
            new ControllerUnpublishVolumeRequest { VolumeId = volume.VolumeId, NodeId = "node-1" });
        await Call<ControllerUnpublishVolumeResponse>("ControllerUnpublishVolume",
            new ControllerUnpublishVolumeRequest { VolumeId = volume.VolumeId, NodeId = "node-1" });
        await Call<DeleteVolumeResponse>("DeleteVolume", new DeleteVolumeRequest { VolumeId = volume.VolumeId });
    }

    [Test]
    public async Task Publish_UnknownVolumeOrNode_IsNotFound_MissingFieldsAreInvalid()
    {
        var volume = await CreateAsync("pvc-1");

        Assert.That(Code(new() { VolumeId = "vol-00000000-0000-0000-0000-000000000000", NodeId = "node-1", VolumeCapability = Mount() }),
            Is.EqualTo(StatusCode.NotFound));
        Assert.That(Code(new() { VolumeId = volume.VolumeId, NodeId = "other-node", VolumeCapability = Mount() }),
            Is.EqualTo(StatusCode.NotFound));
        Assert.That(Code(new() { NodeId = "node-1", VolumeCapability = Mount() }), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(Code(new() { VolumeId = volume.VolumeId, VolumeCapability = Mount() }), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(Code(new() { VolumeId = volume.VolumeId, NodeId = "node-1" }), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.DoesNotThrowAsync(() => Call<ControllerUnpublishVolumeResponse>("ControllerUnpublishVolume",
            new ControllerUnpublishVolumeRequest { VolumeId = "fake-vol", NodeId = "node-1" }));
    }

    private StatusCode Code(ControllerPublishVolumeRequest request)
    {
        try
        {
            Call<ControllerPublishVolumeResponse>("ControllerPublishVolume", request).GetAwaiter().GetResult();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
