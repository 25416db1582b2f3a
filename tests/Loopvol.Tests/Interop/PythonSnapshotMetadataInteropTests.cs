using System.Text.Json;
using Loopvol.Csi.V1;
using Loopvol.Tests.ChangedBlocks;
using Loopvol.Tests.Controller;
using static Loopvol.Tests.Interop.PythonClient;

namespace Loopvol.Tests.Interop;

/// <summary>
/// SnapshotMetadata streams read by Debian's python3-grpcio, which shares no code with ours, against the driver on
/// a real XFS pool: the Python client sees the same ranges as ours, in messages of at most max_results.
/// </summary>
public sealed class PythonSnapshotMetadataInteropTests : ControllerFixture
{
    public PythonSnapshotMetadataInteropTests()
        : base("xfs")
    {
    }

    [TestCase(1)]
    [TestCase(3)]
    public async Task PythonGrpcio_ReadsTheSameRangesAsOurClient_InMessagesOfAtMostMaxResults(int max)
    {
        using var python = await PythonClient.CompileAsync();
        var random = new Random(21);
        var volume = await CreateAsync("vol", 32 * MiB);
        MetadataWorkload.WriteRandom(ImagePath(volume.VolumeId), random, 30, 32 * MiB);
        var first = await SnapshotAsync("snap-a", volume.VolumeId);
        MetadataWorkload.WriteRandom(ImagePath(volume.VolumeId), random, 15, 32 * MiB);
        var second = await SnapshotAsync("snap-b", volume.VolumeId);

        var results = await python.RunAsync("snapshot_metadata_interop.py", Driver.Settings.Endpoint.SocketPath!, "call",
            first.SnapshotId, second.SnapshotId, max.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var allocated = await Driver.Client.ServerStreamingAsync<GetMetadataAllocatedResponse>("SnapshotMetadata",
            "GetMetadataAllocated", new GetMetadataAllocatedRequest { SnapshotId = second.SnapshotId });
        var delta = await Driver.Client.ServerStreamingAsync<GetMetadataDeltaResponse>("SnapshotMetadata",
            "GetMetadataDelta", new GetMetadataDeltaRequest { BaseSnapshotId = first.SnapshotId, TargetSnapshotId = second.SnapshotId });

        Assert.Multiple(() =>
        {
            Assert.That(Code(results["GetMetadataAllocated"]), Is.EqualTo("OK"), Detail(results["GetMetadataAllocated"]));
            Assert.That(Ranges(results["GetMetadataAllocated"]),
                Is.EqualTo(allocated.SelectMany(m => m.BlockMetadata).Select(b => (b.ByteOffset, b.SizeBytes))));
            Assert.That(Code(results["GetMetadataDelta"]), Is.EqualTo("OK"), Detail(results["GetMetadataDelta"]));
            Assert.That(Ranges(results["GetMetadataDelta"]),
                Is.EqualTo(delta.SelectMany(m => m.BlockMetadata).Select(b => (b.ByteOffset, b.SizeBytes))));
            Assert.That(Ranges(results["GetMetadataDelta"]), Is.Not.Empty);
            foreach (var call in new[] { "GetMetadataAllocated", "GetMetadataDelta" })
            {
                var messages = results[call].GetProperty("messages").EnumerateArray().ToList();
                Assert.That(messages.Select(m => m.GetProperty("ranges").GetArrayLength()), Has.All.InRange(1, max));
                Assert.That(messages.Select(m => m.GetProperty("type").GetString()), Has.All.EqualTo("VARIABLE_LENGTH"));
                Assert.That(messages.Select(m => m.GetProperty("capacity").GetInt64()), Has.All.EqualTo(second.SizeBytes));
            }
            Assert.That(Code(results["UnknownSnapshot"]), Is.EqualTo("NOT_FOUND"), Detail(results["UnknownSnapshot"]));
            Assert.That(Code(results["StartingOffsetOutOfRange"]), Is.EqualTo("OUT_OF_RANGE"));
            Assert.That(Detail(results["StartingOffsetOutOfRange"]), Does.Contain("starting_offset"));
        });
    }

    private static string? Detail(JsonElement result) => result.GetProperty("detail").GetString();

    private static IEnumerable<(long, long)> Ranges(JsonElement result) =>
        result.GetProperty("messages").EnumerateArray().SelectMany(m => m.GetProperty("ranges").EnumerateArray())
            .Select(r => (r[0].GetInt64(), r[1].GetInt64())).ToList();

    private async Task<Snapshot> SnapshotAsync(string name, string volume) =>
        (await Call<CreateSnapshotResponse>("CreateSnapshot", new CreateSnapshotRequest { Name = name, SourceVolumeId = volume })).Snapshot;
}
