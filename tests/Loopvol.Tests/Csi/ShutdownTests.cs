using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Csi;

/// <summary>
/// A handler can outlive its call (the client's deadline passed while it was still working). Shutdown waits for
/// such handlers before it closes the journal they write to, so their writes land whole.
/// </summary>
public sealed class ShutdownTests
{
    [Test]
    public async Task AHandlerWhoseCallTimedOut_IsWaitedFor_BeforeTheJournalCloses()
    {
        using var dir = new TempDirectory();
        var gate = new Gate("create-volume.reserved");
        var driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = dir.Combine("data"), Faults = gate });
        var request = new CreateVolumeRequest
        {
            Name = "pvc-slow",
            CapacityRange = new CapacityRange { RequiredBytes = 1 << 20 },
            VolumeCapabilities = { ControllerFixture.Mount("ext4") },
        };

        var call = driver.Client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", request,
            TimeSpan.FromMilliseconds(300));
        Assert.That(await gate.WaitEnteredAsync(TimeSpan.FromSeconds(10)), Is.True, "the handler reached the gate");
        var error = Assert.ThrowsAsync<RpcException>(() => call);
        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded), "the call ended; its handler did not");

        var stopping = driver.DisposeAsync().AsTask();
        await Task.Delay(500);
        Assert.That(stopping.IsCompleted, Is.False, "shutdown waits for the handler that is still running");
        gate.Open();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        await using var again = await InProcessDriver.StartAsync(s => s with { DataDirectory = dir.Combine("data") });
        var retried = await again.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", request);
        var same = await again.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", request);
        Assert.That(same.Volume.VolumeId, Is.EqualTo(retried.Volume.VolumeId));
        Assert.That(again.Driver.Journal.Verify(), Is.Empty, "the journal is consistent after the handler finished");
    }
}
