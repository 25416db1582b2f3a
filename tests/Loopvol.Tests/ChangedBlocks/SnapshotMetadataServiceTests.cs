using Grpc.Core;
using Loopvol.Csi.Services;
using Loopvol.Csi.V1;
using Loopvol.Pool.Extents;
using Loopvol.Tests.Controller;

namespace Loopvol.Tests.ChangedBlocks;

/// <summary>The SnapshotMetadata service over the real server and socket, with the pool on real XFS (reflinks) and ext4 (copies).</summary>
[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class SnapshotMetadataServiceTests(string fsType) : ControllerFixture(fsType)
{
    [Test]
    public async Task GetPluginCapabilities_AdvertisesTheSnapshotMetadataService()
    {
        var caps = await Driver.CallAsync<GetPluginCapabilitiesResponse>("Identity", "GetPluginCapabilities",
            new GetPluginCapabilitiesRequest());

        Assert.That(caps.Capabilities.Select(c => c.Service?.Type),
            Does.Contain(PluginCapability.Types.Service.Types.Type.SnapshotMetadataService));
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(0)]
    public async Task GetMetadataDelta_StreamsTheChangedBlocks_AtMostMaxResultsAMessage(int max)
    {
        var (first, second) = await TwoSnapshotsAsync();

        var messages = await DeltaAsync(first, second, max);

        var expected = MetadataWorkload.DifferingBlocks(ImagePath(first.SnapshotId), ImagePath(second.SnapshotId),
            second.SizeBytes);
        Assert.That(messages.SelectMany(m => m.BlockMetadata).Select(Range), Is.EqualTo(expected));
        Assert.That(messages.Select(m => m.BlockMetadata.Count),
            Has.All.InRange(1, max == 0 ? SnapshotMetadataService.DefaultMaxResults : max));
        Assert.That(messages.Select(m => m.BlockMetadataType), Has.All.EqualTo(BlockMetadataType.VariableLength));
        Assert.That(messages.Select(m => m.VolumeCapacityBytes), Has.All.EqualTo(second.SizeBytes));
    }

    [Test]
    public async Task GetMetadataAllocated_StreamsTheDataRegions_FromTheStartingOffset()
    {
        var (_, second) = await TwoSnapshotsAsync();
        var expected = MetadataWorkload.SeekData(ImagePath(second.SnapshotId), second.SizeBytes);

        var all = await AllocatedAsync(second.SnapshotId, 0, 2);
        var resumed = await AllocatedAsync(second.SnapshotId, expected[2].End, 5);

        Assert.That(all.SelectMany(m => m.BlockMetadata).Select(Range), Is.EqualTo(expected));
        Assert.That(resumed.SelectMany(m => m.BlockMetadata).Select(Range), Is.EqualTo(expected.Skip(3)));
        Assert.That(all.Select(m => m.VolumeCapacityBytes), Has.All.EqualTo(second.SizeBytes));
    }

    [Test]
    public async Task NoChange_IsOneMessageWithNoRange_CarryingTheCapacity()
    {
        var (_, second) = await TwoSnapshotsAsync();

        var messages = await DeltaAsync(second, second, 0);

        Assert.That(messages, Has.Count.EqualTo(1));
        Assert.That(messages[0].BlockMetadata, Is.Empty);
        Assert.That(messages[0].VolumeCapacityBytes, Is.EqualTo(second.SizeBytes));
    }

    private static IEnumerable<TestCaseData> BadRequests()
    {
        yield return new TestCaseData("GetMetadataAllocated", new GetMetadataAllocatedRequest(), StatusCode.InvalidArgument, "snapshot_id")
            .SetName("Allocated_NoSnapshotId_IsInvalidArgument");
        yield return new TestCaseData("GetMetadataAllocated", new GetMetadataAllocatedRequest { SnapshotId = "{first}", MaxResults = -1 },
            StatusCode.InvalidArgument, "max_results").SetName("Allocated_NegativeMaxResults_IsInvalidArgument");
        yield return new TestCaseData("GetMetadataAllocated", new GetMetadataAllocatedRequest { SnapshotId = "{first}", StartingOffset = -1 },
            StatusCode.OutOfRange, "starting_offset").SetName("Allocated_NegativeStartingOffset_IsOutOfRange");
        yield return new TestCaseData("GetMetadataAllocated", new GetMetadataAllocatedRequest { SnapshotId = "{first}", StartingOffset = 64 * MiB + 1 },
            StatusCode.OutOfRange, "starting_offset").SetName("Allocated_StartingOffsetPastTheSize_IsOutOfRange");
        yield return new TestCaseData("GetMetadataAllocated", new GetMetadataAllocatedRequest { SnapshotId = "snap-00000000-0000-4000-8000-000000000000" },
            StatusCode.NotFound, "snapshot_id").SetName("Allocated_UnknownSnapshot_IsNotFound");
        yield return new TestCaseData("GetMetadataAllocated", new GetMetadataAllocatedRequest { SnapshotId = "{volume}" },
            StatusCode.NotFound, "snapshot_id").SetName("Allocated_AVolumeId_IsNotFound");
        yield return new TestCaseData("GetMetadataDelta", new GetMetadataDeltaRequest { TargetSnapshotId = "{second}" },
            StatusCode.InvalidArgument, "base_snapshot_id").SetName("Delta_NoBase_IsInvalidArgument");
        yield return new TestCaseData("GetMetadataDelta", new GetMetadataDeltaRequest { BaseSnapshotId = "{first}" },
            StatusCode.InvalidArgument, "target_snapshot_id").SetName("Delta_NoTarget_IsInvalidArgument");
        yield return new TestCaseData("GetMetadataDelta",
            new GetMetadataDeltaRequest { BaseSnapshotId = "{first}", TargetSnapshotId = "snap-00000000-0000-4000-8000-000000000000" },
            StatusCode.NotFound, "target_snapshot_id").SetName("Delta_UnknownTarget_IsNotFound");
        yield return new TestCaseData("GetMetadataDelta", new GetMetadataDeltaRequest { BaseSnapshotId = "{first}", TargetSnapshotId = "{other}" },
            StatusCode.InvalidArgument, "same volume").SetName("Delta_SnapshotsOfDifferentVolumes_IsInvalidArgument");
        yield return new TestCaseData("GetMetadataDelta", new GetMetadataDeltaRequest { BaseSnapshotId = "{second}", TargetSnapshotId = "{first}" },
            StatusCode.InvalidArgument, "earlier").SetName("Delta_BaseTakenAfterTarget_IsInvalidArgument");
        yield return new TestCaseData("GetMetadataDelta",
            new GetMetadataDeltaRequest { BaseSnapshotId = "{first}", TargetSnapshotId = "{second}", StartingOffset = 64 * MiB + 4096 },
            StatusCode.OutOfRange, "starting_offset").SetName("Delta_StartingOffsetPastTheSize_IsOutOfRange");
    }

    [TestCaseSource(nameof(BadRequests))]
    public async Task BadRequest_EndsTheStreamWithTheSpecsCode_NamingTheField(string method, Google.Protobuf.IMessage request,
        StatusCode code, string detail)
    {
        var (first, second) = await TwoSnapshotsAsync();
        var other = await CreateAsync("other", 8 * MiB);
        var otherSnapshot = await SnapshotAsync("other-snap", other.VolumeId);
        var ids = new Dictionary<string, string>
        {
            ["{first}"] = first.SnapshotId,
            ["{second}"] = second.SnapshotId,
            ["{other}"] = otherSnapshot.SnapshotId,
            ["{volume}"] = other.VolumeId,
        };
        foreach (var field in request.Descriptor.Fields.InFieldNumberOrder().Where(f => f.FieldType == Google.Protobuf.Reflection.FieldType.String))
        {
            var value = (string)field.Accessor.GetValue(request);
            field.Accessor.SetValue(request, ids.GetValueOrDefault(value, value));
        }

        var error = Assert.ThrowsAsync<RpcException>(() =>
            Driver.Client.ServerStreamingAsync<GetMetadataDeltaResponse>("SnapshotMetadata", method, request));

        Assert.That(error!.StatusCode, Is.EqualTo(code), error.Status.Detail);
        Assert.That(error.Status.Detail, Does.Contain(detail));
    }

    private static BlockRange Range(BlockMetadata b) => new(b.ByteOffset, b.SizeBytes);

    private Task<IReadOnlyList<GetMetadataDeltaResponse>> DeltaAsync(Snapshot baseSnapshot, Snapshot target, int max) =>
        Driver.Client.ServerStreamingAsync<GetMetadataDeltaResponse>("SnapshotMetadata", "GetMetadataDelta",
            new GetMetadataDeltaRequest { BaseSnapshotId = baseSnapshot.SnapshotId, TargetSnapshotId = target.SnapshotId, MaxResults = max });

    private Task<IReadOnlyList<GetMetadataAllocatedResponse>> AllocatedAsync(string snapshot, long offset, int max) =>
        Driver.Client.ServerStreamingAsync<GetMetadataAllocatedResponse>("SnapshotMetadata", "GetMetadataAllocated",
            new GetMetadataAllocatedRequest { SnapshotId = snapshot, StartingOffset = offset, MaxResults = max });

    private async Task<Snapshot> SnapshotAsync(string name, string volume) =>
        (await Call<CreateSnapshotResponse>("CreateSnapshot", new CreateSnapshotRequest { Name = name, SourceVolumeId = volume })).Snapshot;

    /// <summary>A 64 MiB volume written at random, snapshotted, written and punched again, and snapshotted.</summary>
    private async Task<(Snapshot First, Snapshot Second)> TwoSnapshotsAsync()
    {
        var random = new Random(11);
        var volume = await CreateAsync("vol", 64 * MiB);
        MetadataWorkload.WriteRandom(ImagePath(volume.VolumeId), random, 80, 64 * MiB);
        var first = await SnapshotAsync("snap-a", volume.VolumeId);
        MetadataWorkload.WriteRandom(ImagePath(volume.VolumeId), random, 40, 64 * MiB);
        MetadataWorkload.PunchRandom(ImagePath(volume.VolumeId), random, 10, 64 * MiB);
        var second = await SnapshotAsync("snap-b", volume.VolumeId);
        return (first, second);
    }
}
