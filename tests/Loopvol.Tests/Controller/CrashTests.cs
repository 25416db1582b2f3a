using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Journal.Maintenance;
using Loopvol.Pool;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Controller;

/// <summary>
/// The real driver process killed with SIGKILL at each step of CreateVolume, CreateSnapshot and DeleteVolume
/// (LOOPVOL_TEST_CRASH_AT), the steps a delete takes after its answer included, then restarted and the same call
/// retried: it succeeds, a second retry answers the same, and the journal check finds nothing: no leaked image, no
/// orphan record, no half-written file. What a power loss could lose on top is in <see cref="PowerLossTests"/>.
/// </summary>
public sealed class CrashTests
{
    private const long MiB = 1 << 20;

    private static readonly string[] CreatePoints =
    [
        "reserve.after-record", "reserve.after-entry", "reserve.before-commit", "reserve.after-commit",
        "create-volume.reserved", "image.create.written", "image.create.renamed", "create-volume.image-created",
        "mark-created.after-update", "mark-created.after-commit",
    ];

    private static readonly string[] SnapshotPoints =
    [
        "reserve.after-entry", "reserve.after-commit", "create-snapshot.reserved", "image.create.written",
        "image.create.renamed", "create-snapshot.image-created", "mark-created.after-update", "mark-created.after-commit",
    ];

    private static readonly string[] DeletePoints =
    [
        "mark-deleting.after-update", "mark-deleting.after-commit", "delete-volume.marked", "image.delete.after-unlink",
        "delete-volume.image-deleted",
    ];

    /// <summary>The steps of a delete after its answer: the sweeper's directory sync and record removal.</summary>
    private static readonly string[] SweepPoints =
    [
        "sweep.collected", "image.directory.before-sync", "sweep.synced", "remove-deleted.after-record",
        "remove-deleted.before-commit", "remove-deleted.after-commit",
    ];

    [TestCaseSource(nameof(CreatePoints))]
    public async Task CreateVolume_KilledAt_RetryMakesExactlyOneVolume(string point)
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");

        await CrashAsync(data, point, c => Create(c, "pvc-1"));
        var (first, second) = await RetryTwiceAsync(data, c => Create(c, "pvc-1"));

        Assert.That(second.Volume.VolumeId, Is.EqualTo(first.Volume.VolumeId));
        AssertClean(data, images: 1);
    }

    [TestCaseSource(nameof(SnapshotPoints))]
    public async Task CreateSnapshot_KilledAt_RetryMakesExactlyOneSnapshot(string point)
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var volume = await CreateWithoutCrashAsync(data);

        await CrashAsync(data, point, c => Snapshot(c, volume));
        var (first, second) = await RetryTwiceAsync(data, c => Snapshot(c, volume));

        Assert.That(second.Snapshot.SnapshotId, Is.EqualTo(first.Snapshot.SnapshotId));
        AssertClean(data, images: 2);
    }

    [TestCaseSource(nameof(DeletePoints))]
    public async Task DeleteVolume_KilledAt_RetryFinishesTheDelete(string point)
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var volume = await CreateWithoutCrashAsync(data);

        await CrashAsync(data, point, c => Delete(c, volume));
        await RetryTwiceAsync(data, c => Delete(c, volume));

        AssertClean(data, images: 0);
    }

    [TestCaseSource(nameof(SweepPoints))]
    public async Task DeleteVolume_KilledAfterTheAnswerAt_StartFinishesTheDelete_RetryAnswersTheSame(string point)
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var volume = await CreateWithoutCrashAsync(data);

        await CrashAfterAnswerAsync(data, point, c => Delete(c, volume));
        await RetryTwiceAsync(data, c => Delete(c, volume));

        AssertClean(data, images: 0);
    }

    internal static async Task<string> CreateWithoutCrashAsync(string data)
    {
        await using var clean = await DriverProcess.StartAsync(data);
        using var client = new CsiClient(clean.Endpoint);
        return (await Create(client, "pvc-1")).Volume.VolumeId;
    }

    internal static async Task CrashAsync<T>(string data, string point, Func<CsiClient, Task<T>> call)
    {
        await using var driver = await DriverProcess.StartAsync(data,
            new Dictionary<string, string> { ["LOOPVOL_TEST_CRASH_AT"] = point });
        using var client = new CsiClient(driver.Endpoint);
        Assert.ThrowsAsync<RpcException>(() => call(client), "the call must die with the driver");
        var exit = await driver.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.That(exit, Is.EqualTo(128 + 9), $"the driver must have been killed at {point}:\n{driver.Output}");
    }

    /// <summary>
    /// A call whose fault point comes after its answer (in the pool's sweeper): the driver dies there by itself. The
    /// answer may or may not have reached the client before it died.
    /// </summary>
    internal static async Task CrashAfterAnswerAsync<T>(string data, string point, Func<CsiClient, Task<T>> call)
    {
        await using var driver = await DriverProcess.StartAsync(data,
            new Dictionary<string, string> { ["LOOPVOL_TEST_CRASH_AT"] = point });
        using var client = new CsiClient(driver.Endpoint);
        try
        {
            await call(client);
        }
        catch (RpcException)
        {
            // Killed before the answer was sent.
        }
        var exit = await driver.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.That(exit, Is.EqualTo(128 + 9), $"the driver must have been killed at {point}:\n{driver.Output}");
    }

    internal static async Task<(T First, T Second)> RetryTwiceAsync<T>(string data, Func<CsiClient, Task<T>> call)
    {
        await using var driver = await DriverProcess.StartAsync(data);
        using var client = new CsiClient(driver.Endpoint);
        var first = await call(client);
        var second = await call(client);
        driver.Signal(15);
        await driver.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (first, second);
    }

    internal static void AssertClean(string data, int images)
    {
        var layout = new PoolLayout(Path.Combine(data, "pool"));
        using var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db"));
        var findings = JournalAudit.Check(journal, new PoolInventory(layout), DateTimeOffset.UtcNow, TimeSpan.Zero);
        Assert.That(findings, Is.Empty, "the journal check must find nothing to repair");
        Assert.That(journal.All(), Has.Count.EqualTo(images), "one record per image, no faulty or stale ones");
        Assert.That(new PoolInventory(layout).BackendNames(), Has.Count.EqualTo(images));
        Assert.That(Directory.GetFiles(layout.IncomingDirectory), Is.Empty, "no half-written image may remain");
    }

    internal static Task<CreateVolumeResponse> Create(CsiClient client, string name) =>
        client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = 16 * MiB },
            VolumeCapabilities = { ControllerFixture.Mount() },
        });

    internal static Task<CreateSnapshotResponse> Snapshot(CsiClient client, string volume) =>
        client.UnaryAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap-1", SourceVolumeId = volume });

    internal static Task<DeleteVolumeResponse> Delete(CsiClient client, string volume) =>
        client.UnaryAsync<DeleteVolumeResponse>("Controller", "DeleteVolume",
            new DeleteVolumeRequest { VolumeId = volume });
}
