using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// SIGKILL of a node agent at steps of create, snapshot and delete (its journal's and pool's crash points), and of
/// the controller before it calls the agent and after the agent answered, then the same call retried by name through
/// the controller: the same ID, and nothing left behind on either node.
/// </summary>
public sealed class ClusterCrashTests
{
    private const int Killed = 128 + 9;

    [TestCase("create", "reserve.after-commit")]
    [TestCase("create", "image.create.renamed")]
    [TestCase("create", "mark-created.after-commit")]
    [TestCase("snapshot", "create-snapshot.reserved")]
    [TestCase("snapshot", "mark-created.after-update")]
    [TestCase("delete", "mark-deleting.after-commit")]
    [TestCase("delete", "image.delete.after-unlink")]
    public async Task AgentKilledAt_RetryThroughTheController_GivesTheSameIdAndLeavesNothing(string call, string point)
    {
        await using var cluster = await ClusterProcesses.StartAsync();
        var volume = call == "create" ? null : await WithClientAsync(cluster, c => CreateAsync(c));
        await cluster.StartAgentAsync(0, crashAt: point);

        using (var client = cluster.Client())
        {
            var failed = Assert.ThrowsAsync<RpcException>(() => Run(call, client, volume));
            Assert.That(failed!.StatusCode, Is.EqualTo(StatusCode.Unavailable), failed.Status.Detail);
        }
        Assert.That(await cluster.Agent(0).WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(Killed), cluster.Agent(0).Output);
        await cluster.StartAgentAsync(0);
        var (first, second) = await WithClientAsync(cluster, async c => (await Run(call, c, volume), await Run(call, c, volume)));
        await cluster.StopAllAsync();

        Assert.That(second, Is.EqualTo(first), "a retry answers the same");
        Assert.That(first, call == "delete" ? Is.Empty : Does.EndWith(".node-a"));
        CrashTests.AssertClean(cluster.AgentData(0), images: call switch { "create" => 1, "snapshot" => 2, _ => 0 });
        CrashTests.AssertClean(cluster.AgentData(1), images: 0);
    }

    [TestCase("create", "route.chosen")]
    [TestCase("create", "route.answered")]
    [TestCase("snapshot", "route.chosen")]
    [TestCase("snapshot", "route.answered")]
    [TestCase("delete", "route.chosen")]
    [TestCase("delete", "route.answered")]
    public async Task ControllerKilledAt_RetryAfterItsRestart_GivesTheSameIdAndLeavesNothing(string call, string point)
    {
        await using var cluster = await ClusterProcesses.StartAsync();
        var volume = call == "create" ? null : await WithClientAsync(cluster, c => CreateAsync(c));
        await cluster.StartControllerAsync(crashAt: point);

        using (var client = cluster.Client())
        {
            Assert.ThrowsAsync<RpcException>(() => Run(call, client, volume), "the call must die with the controller");
        }
        Assert.That(await cluster.Controller!.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(Killed), cluster.Controller.Output);
        await cluster.StartControllerAsync();
        var (first, second) = await WithClientAsync(cluster, async c => (await Run(call, c, volume), await Run(call, c, volume)));
        await cluster.StopAllAsync();

        Assert.That(second, Is.EqualTo(first));
        Assert.That(first, call == "delete" ? Is.Empty : Does.EndWith(".node-a"));
        CrashTests.AssertClean(cluster.AgentData(0), images: call switch { "create" => 1, "snapshot" => 2, _ => 0 });
        CrashTests.AssertClean(cluster.AgentData(1), images: 0);
    }

    /// <summary>Runs the call; answers the ID it made (empty for a delete).</summary>
    private static async Task<string> Run(string call, CsiClient client, string? volume) => call switch
    {
        "create" => await CreateAsync(client),
        "snapshot" => (await client.UnaryAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap-1", SourceVolumeId = volume })).Snapshot.SnapshotId,
        _ => (await client.UnaryAsync<DeleteVolumeResponse>("Controller", "DeleteVolume",
            new DeleteVolumeRequest { VolumeId = volume })).ToString().Trim('{', '}', ' '),
    };

    private static async Task<string> CreateAsync(CsiClient client) =>
        (await client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = "pvc-1",
            CapacityRange = new CapacityRange { RequiredBytes = 16 << 20 },
            VolumeCapabilities = { ControllerFixture.Mount() },
            AccessibilityRequirements = new TopologyRequirement { Preferred = { NodeTopology.Of("node-a") } },
        })).Volume.VolumeId;

    /// <summary>
    /// Runs <paramref name="call"/> as a sidecar would: UNAVAILABLE (the controller still dialling a restarted agent)
    /// is tried again, for at most 20 s.
    /// </summary>
    private static async Task<T> WithClientAsync<T>(ClusterProcesses cluster, Func<CsiClient, Task<T>> call)
    {
        using var client = cluster.Client();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(client);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && attempt < 40)
            {
                await Task.Delay(500);
            }
        }
    }
}
