using Grpc.Core;
using Loopvol.Agent.V1;
using Loopvol.Core.Concurrency;
using Loopvol.Csi;
using Loopvol.Csi.Services;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Controller;

/// <summary>
/// The node agent's own service (protos/loopvol/agent/v1/agent.proto) on the real server, over a driver's real pool:
/// Describe names the node; Locate answers which IDs the pool holds, tagged or not, and only those.
/// </summary>
public sealed class AgentServiceTests
{
    [Test]
    public async Task Describe_NamesTheNode_Locate_AnswersWhatThePoolHolds_InOrder()
    {
        await using var driver = await InProcessDriver.StartAsync(); // node-1
        var identity = new DriverIdentity("loopvol.csi.dev", "9.9.9");
        using var tracker = new CallTracker();
        var endpoint = GrpcEndpoint.Unix(driver.Settings.DataDirectory + "-agent.sock");
        await using var server = CsiServer.Create(endpoint, new CsiServices(new IdentityService(identity, [], [],
                NullLogger<IdentityService>.Instance)) { Agent = new AgentService(driver.Driver.Pool, new Loopvol.NodeHost.MountQuiescer(driver.Driver.Journal, TimeSpan.FromSeconds(10), Loopvol.Core.Faults.NoFaults.Instance), identity, "node-1") },
            new CsiServerOptions(), tracker, NullLoggerFactory.Instance);
        await server.StartAsync();
        using var channel = CsiChannel.Create(endpoint);
        var agent = new Agent.V1.Agent.AgentClient(channel);
        var kept = await CreateAsync(driver, "pvc-kept");
        var deleted = await CreateAsync(driver, "pvc-deleted");
        await driver.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume", new DeleteVolumeRequest { VolumeId = deleted });
        var snapshot = (await driver.CallAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap", SourceVolumeId = kept })).Snapshot.SnapshotId;

        var described = await agent.DescribeAsync(new DescribeRequest());
        var located = await agent.LocateAsync(new LocateRequest
        {
            VolumeIds =
            {
                "vol-00000000-0000-4000-8000-000000000000", kept + ".node-2", kept + ".node-1", deleted, "../etc", kept,
                snapshot,
            },
            SnapshotIds = { snapshot, snapshot + ".node-1", kept },
            GroupSnapshotIds = { "group-00000000-0000-4000-8000-000000000000" },
            VolumeNames = { "pvc-unknown", "pvc-deleted", "snap", "pvc-kept", "" },
            SnapshotNames = { "snap", "pvc-kept" },
            GroupSnapshotNames = { "snap" },
        });
        var tooMany = Assert.ThrowsAsync<RpcException>(async () => await agent.LocateAsync(new LocateRequest
        {
            VolumeIds = { Enumerable.Repeat(kept, 600) }, SnapshotIds = { Enumerable.Repeat(snapshot, 401) },
        }));

        Assert.That(described.NodeId, Is.EqualTo("node-1"));
        Assert.That(described.DriverName, Is.EqualTo("loopvol.csi.dev"));
        Assert.That(described.Version, Is.EqualTo("9.9.9"));
        Assert.That(described.AccessibleTopology, Is.EquivalentTo(new Dictionary<string, string> { ["topology.loopvol.csi.dev/node"] = "node-1" }));
        Assert.That(located.VolumeIds, Is.EqualTo(new[] { kept + ".node-1", kept }), "unknown, another node's, deleted, malformed and wrong-kind IDs are not here");
        Assert.That(located.SnapshotIds, Is.EqualTo(new[] { snapshot, snapshot + ".node-1" }));
        Assert.That(located.GroupSnapshotIds, Is.Empty);
        Assert.That(located.VolumeNames, Is.EqualTo(new[] { "pvc-kept" }), "names of this kind reserved here, and no deleted one");
        Assert.That(located.SnapshotNames, Is.EqualTo(new[] { "snap" }));
        Assert.That(located.GroupSnapshotNames, Is.Empty);
        Assert.That(tooMany!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(tooMany.Status.Detail, Does.Contain("volume_ids").And.Contain("1001"));
    }

    private static async Task<string> CreateAsync(InProcessDriver driver, string name) =>
        (await driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = 16 << 20 },
            VolumeCapabilities = { ControllerFixture.Mount("ext4") },
        })).Volume.VolumeId;
}
