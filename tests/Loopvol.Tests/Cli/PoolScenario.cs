using Google.Protobuf;
using Loopvol.Cli;
using Loopvol.Csi.V1;
using Loopvol.Journal.Model;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cli;

/// <summary>
/// A data directory populated through the real driver executable: volumes with capabilities (one expanded), a
/// snapshot, a volume restored from it, a clone, a group snapshot of two volumes, and a volume made and deleted.
/// </summary>
public sealed class PoolScenario : IDisposable
{
    private readonly TempDirectory _dir = new();

    public PoolScenario() => Data = _dir.Combine("data");

    public string Data { get; }

    public string JournalPath => Path.Combine(Data, "journal.db");

    public string Pool => Path.Combine(Data, "pool");

    public string VolumeA { get; private set; } = "";

    public string VolumeB { get; private set; } = "";

    public string Snapshot { get; private set; } = "";

    public string Restored { get; private set; } = "";

    public string Clone { get; private set; } = "";

    public string Group { get; private set; } = "";

    public static CreateVolumeRequest VolumeARequest() => new()
    {
        Name = "pvc-a",
        CapacityRange = new CapacityRange { RequiredBytes = 16 << 20, LimitBytes = 64 << 20 },
        VolumeCapabilities = { ControllerFixture.Mount("ext4"), ControllerFixture.Mount("ext4", VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeReaderOnly) },
        Parameters = { ["fsType"] = "ext4", ["csi.storage.k8s.io/pvc/name"] = "data-a" },
    };

    public static CreateVolumeRequest RestoredRequest(string snapshot) => new()
    {
        Name = "pvc-restored",
        VolumeCapabilities = { ControllerFixture.Mount("ext4") },
        VolumeContentSource = new VolumeContentSource { Snapshot = new() { SnapshotId = snapshot } },
    };

    /// <summary>Makes everything through a driver serving this data directory, then stops it (SIGTERM, exit 0).</summary>
    public async Task PopulateAsync()
    {
        await using var driver = await DriverProcess.StartAsync(Data);
        using var client = new CsiClient(driver.Endpoint);
        VolumeA = (await Controller<CreateVolumeResponse>(client, "CreateVolume", VolumeARequest())).Volume.VolumeId;
        VolumeB = (await Controller<CreateVolumeResponse>(client, "CreateVolume", new CreateVolumeRequest
        {
            Name = "pvc-b", CapacityRange = new CapacityRange { RequiredBytes = 8 << 20 }, VolumeCapabilities = { ControllerFixture.Block() },
        })).Volume.VolumeId;
        await Controller<ControllerExpandVolumeResponse>(client, "ControllerExpandVolume", new ControllerExpandVolumeRequest
        {
            VolumeId = VolumeB, CapacityRange = new CapacityRange { RequiredBytes = 12 << 20 },
        });
        Snapshot = (await Controller<CreateSnapshotResponse>(client, "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap-a", SourceVolumeId = VolumeA })).Snapshot.SnapshotId;
        Restored = (await Controller<CreateVolumeResponse>(client, "CreateVolume", RestoredRequest(Snapshot))).Volume.VolumeId;
        Clone = (await Controller<CreateVolumeResponse>(client, "CreateVolume", new CreateVolumeRequest
        {
            Name = "pvc-clone", VolumeCapabilities = { ControllerFixture.Mount() },
            VolumeContentSource = new VolumeContentSource { Volume = new() { VolumeId = VolumeA } },
        })).Volume.VolumeId;
        Group = (await client.UnaryAsync<CreateVolumeGroupSnapshotResponse>(
            "GroupController", "CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { VolumeB, VolumeA } })).GroupSnapshot.GroupSnapshotId;
        var gone = (await Controller<CreateVolumeResponse>(client, "CreateVolume", new CreateVolumeRequest
        {
            Name = "pvc-gone", VolumeCapabilities = { ControllerFixture.Mount() },
        })).Volume.VolumeId;
        await Controller<DeleteVolumeResponse>(client, "DeleteVolume", new DeleteVolumeRequest { VolumeId = gone });
        driver.Signal(15);
        Assert.That(await driver.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, driver.Output);
    }

    /// <summary>Every record as the journal holds it, with the group members, for comparing two journals.</summary>
    public IReadOnlyList<string> Records()
    {
        using var journal = Loopvol.Journal.Journal.Open(JournalPath);
        return journal.All().Select(r =>
                $"{r.Id} '{r.RequestName}' {r.State} size={r.SizeBytes} created={r.CreatedAt.ToUnixTimeMilliseconds()} " +
                $"group={r.Group} args={DefiningArgumentsJson.Serialize(r.Arguments)} " +
                $"members=[{string.Join(",", journal.Members(r.Id).Select(m => $"{m.Key}->{m.Value}"))}]")
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Runs an operator command of the executable's command line in this process.</summary>
    public async Task<(int Exit, string Text)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await LoopvolCommand.RunAsync([.. args, "--data-dir", Data], output, output);
        return (exit, output.ToString());
    }

    /// <summary>Starts the executable on this data directory expecting it to refuse; returns its exit code and output.</summary>
    public Task<(int ExitCode, string Text)> StartExpectingRefusalAsync(params string[] extra) =>
        Processes.RunExpectingFailureAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "loopvol.dll"), "--data-dir", Data, .. extra]);

    public static Task<T> Controller<T>(CsiClient client, string method, IMessage request)
        where T : class, IMessage<T>, new() => client.UnaryAsync<T>("Controller", method, request);

    public void Dispose() => _dir.Dispose();
}
