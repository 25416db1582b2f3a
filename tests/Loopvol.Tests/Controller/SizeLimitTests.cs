using Grpc.Core;
using Loopvol.Csi.V1;

namespace Loopvol.Tests.Controller;

/// <summary>
/// Sizes at the edge of a 64-bit byte count: whatever cannot be a whole number of blocks is OUT_OF_RANGE naming the
/// field, what the pool cannot hold RESOURCE_EXHAUSTED, a negative size INVALID_ARGUMENT; none of them leaves a
/// record or an image, or changes a volume. An expansion never answers less than it was asked.
/// </summary>
[TestFixture("xfs")]
public sealed class SizeLimitTests(string fsType) : ControllerFixture(fsType)
{
    private const long Max = long.MaxValue;

    private static IEnumerable<TestCaseData> Creates()
    {
        TestCaseData Case(long required, long limit, StatusCode code, string field, string fs = "") =>
            new TestCaseData(required, limit, fs, code, field)
                .SetName($"CreateVolume_Required{Describe(required)}_Limit{Describe(limit)}{fs}_Is{code}");
        yield return Case(Max, 0, StatusCode.OutOfRange, "capacity_range.required_bytes");
        yield return Case(Max - 1, 0, StatusCode.OutOfRange, "capacity_range.required_bytes");
        yield return Case(Max - 4094, 0, StatusCode.OutOfRange, "capacity_range.required_bytes");
        yield return Case(Max, Max, StatusCode.OutOfRange, "capacity_range.required_bytes");
        yield return Case(Max, 0, StatusCode.OutOfRange, "capacity_range.required_bytes", "xfs");
        yield return Case(Max - 4095, 0, StatusCode.ResourceExhausted, "available"); // 2^63 - 4096: whole blocks
        yield return Case(1L << 62, Max, StatusCode.ResourceExhausted, "available");
        yield return Case(-1, 0, StatusCode.InvalidArgument, "capacity_range.required_bytes");
        yield return Case(0, -1, StatusCode.InvalidArgument, "capacity_range.limit_bytes");
        yield return Case(long.MinValue, 0, StatusCode.InvalidArgument, "capacity_range.required_bytes");
    }

    [TestCaseSource(nameof(Creates))]
    public void CreateVolume_AtTheEdge_IsRefused_AndLeavesNothing(long required, long limit, string fs, StatusCode code,
        string field)
    {
        var request = NewVolume("pvc-edge", capability: Mount(fs));
        request.CapacityRange = new CapacityRange { RequiredBytes = required, LimitBytes = limit };

        var error = Assert.ThrowsAsync<RpcException>(() => Call<CreateVolumeResponse>("CreateVolume", request));

        Assert.That(error!.StatusCode, Is.EqualTo(code), error.Status.Detail);
        Assert.That(error.Status.Detail, Does.Contain(field));
        Assert.That(Driver.Driver.Journal.All(), Is.Empty, "nothing may be reserved");
        Assert.That(Directory.EnumerateFiles(Driver.Settings.PoolDirectory, "*.img"), Is.Empty, "no image may be made");
    }

    [Test]
    public async Task CreateVolume_HugeLimitSmallRequest_GetsTheRequest()
    {
        var request = NewVolume("pvc-1");
        request.CapacityRange.LimitBytes = Max;

        Assert.That((await Call<CreateVolumeResponse>("CreateVolume", request)).Volume.CapacityBytes, Is.EqualTo(16 * MiB));
    }

    private static IEnumerable<TestCaseData> Expands()
    {
        TestCaseData Case(long required, long limit, StatusCode code, string field) =>
            new TestCaseData(required, limit, code, field)
                .SetName($"ControllerExpandVolume_Required{Describe(required)}_Limit{Describe(limit)}_Is{code}");
        yield return Case(Max, 0, StatusCode.OutOfRange, "capacity_range.required_bytes");
        yield return Case(Max - 1, 0, StatusCode.OutOfRange, "capacity_range.required_bytes");
        yield return Case(Max - 4094, Max, StatusCode.OutOfRange, "capacity_range.required_bytes");
        yield return Case(Max - 4095, 0, StatusCode.ResourceExhausted, "available");
        yield return Case(48 * MiB, 32 * MiB, StatusCode.OutOfRange, "limit_bytes");
        yield return Case(8 * MiB, 12 * MiB, StatusCode.OutOfRange, "limit_bytes"); // Already 16 MiB; never shrinks.
        yield return Case(-1, 0, StatusCode.InvalidArgument, "capacity_range.required_bytes");
        yield return Case(32 * MiB, -1, StatusCode.InvalidArgument, "capacity_range.limit_bytes");
    }

    [TestCaseSource(nameof(Expands))]
    public async Task ControllerExpandVolume_AtTheEdge_IsRefused_AndTheVolumeIsUnchanged(long required, long limit,
        StatusCode code, string field)
    {
        var volume = await CreateAsync("pvc-1");

        var error = Assert.ThrowsAsync<RpcException>(() => Call<ControllerExpandVolumeResponse>("ControllerExpandVolume",
            new ControllerExpandVolumeRequest
            {
                VolumeId = volume.VolumeId, CapacityRange = new CapacityRange { RequiredBytes = required, LimitBytes = limit },
            }));

        Assert.That(error!.StatusCode, Is.EqualTo(code), error.Status.Detail);
        Assert.That(error.Status.Detail, Does.Contain(field));
        var got = await Call<ControllerGetVolumeResponse>("ControllerGetVolume", new ControllerGetVolumeRequest { VolumeId = volume.VolumeId });
        Assert.That(got.Volume.CapacityBytes, Is.EqualTo(16 * MiB));
        Assert.That(got.Status.VolumeCondition.Abnormal, Is.False, got.Status.VolumeCondition.Message);
        Assert.That(new FileInfo(ImagePath(volume.VolumeId)).Length, Is.EqualTo(16 * MiB));
    }

    [TestCase(16 * MiB + 1, 16 * MiB + 4096)]
    [TestCase(48 * MiB - 1, 48 * MiB)]
    [TestCase(0, 16 * MiB)]
    [TestCase(1, 16 * MiB)]
    public async Task ControllerExpandVolume_AnswersAtLeastWhatWasAsked_InWholeBlocks(long required, long expected)
    {
        var volume = await CreateAsync("pvc-1");

        var expanded = await Call<ControllerExpandVolumeResponse>("ControllerExpandVolume", new ControllerExpandVolumeRequest
        {
            VolumeId = volume.VolumeId, CapacityRange = new CapacityRange { RequiredBytes = required },
        });

        Assert.That(expanded.CapacityBytes, Is.EqualTo(expected).And.AtLeast(required));
        Assert.That(new FileInfo(ImagePath(volume.VolumeId)).Length, Is.EqualTo(expected));
    }

    private static string Describe(long bytes) => bytes switch
    {
        Max => "Max",
        1L << 62 => "2^62",
        < 0 when bytes == long.MinValue => "Min",
        > 1L << 40 => $"Max-{Max - bytes}",
        _ => bytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
