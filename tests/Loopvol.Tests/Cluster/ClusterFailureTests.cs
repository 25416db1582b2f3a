using Loopvol.Bench.Tls;
using Grpc.Core;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Tests.Support;
using static Loopvol.Tests.Cluster.ClusterRoutingTests;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// What the controller does when an agent is gone, with IDs made before the cluster existed, and with peers that do
/// not hold the cluster's CA.
/// </summary>
public sealed class ClusterFailureTests
{
    [Test]
    public async Task AStoppedAgent_MakesCallsForItsObjectsUnavailable_TheOtherNodesServe()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        var onA = await CreateAsync(cluster, "pvc-a", Preferring("node-a"));
        var onB = await CreateAsync(cluster, "pvc-b", Preferring("node-b"));
        await cluster.StopNodeAsync(1);

        var delete = Assert.ThrowsAsync<RpcException>(() => cluster.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume",
            new DeleteVolumeRequest { VolumeId = onB.VolumeId }));
        var create = Assert.ThrowsAsync<RpcException>(() => CreateAsync(cluster, "pvc-b2", Preferring("node-b")));
        var list = Assert.ThrowsAsync<RpcException>(() => cluster.CallAsync<ListVolumesResponse>("Controller", "ListVolumes",
            new ListVolumesRequest()));
        var stillA = await cluster.CallAsync<ControllerGetVolumeResponse>("Controller", "ControllerGetVolume",
            new ControllerGetVolumeRequest { VolumeId = onA.VolumeId });
        var newOnC = await CreateAsync(cluster, "pvc-c", Preferring("node-c"));
        var snapshotOnA = await cluster.CallAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap-a", SourceVolumeId = onA.VolumeId });

        foreach (var e in new[] { delete, create, list })
        {
            Assert.That(e!.StatusCode, Is.EqualTo(StatusCode.Unavailable), e.Status.Detail);
            Assert.That(e.Status.Detail, Does.Contain("node-b"));
        }
        Assert.That(stillA.Volume.VolumeId, Is.EqualTo(onA.VolumeId));
        Assert.That(newOnC.VolumeId, Does.EndWith(".node-c"));
        Assert.That(snapshotOnA.Snapshot.SnapshotId, Does.EndWith(".node-a"));
    }

    [Test]
    public async Task IdsMadeInAllMode_AreFoundOnTheirNode_UnknownOnesAreNotFound()
    {
        using var data = new TempDirectory();
        string untagged;
        await using (var single = await InProcessDriver.StartAsync(s => s with { NodeId = "node-b", DataDirectory = data.Combine("b") }))
        {
            untagged = (await single.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
            {
                Name = "pvc-old", CapacityRange = new CapacityRange { RequiredBytes = 16 << 20 },
                VolumeCapabilities = { Controller.ControllerFixture.Mount("ext4") },
            })).Volume.VolumeId;
        }
        await using var cluster = await ThreeNodes.StartAsync((i, s) => i == 1 ? s with { DataDirectory = data.Combine("b") } : s);

        var found = await cluster.CallAsync<ControllerGetVolumeResponse>("Controller", "ControllerGetVolume",
            new ControllerGetVolumeRequest { VolumeId = untagged });
        var unknown = Assert.ThrowsAsync<RpcException>(() => cluster.CallAsync<ControllerGetVolumeResponse>("Controller",
            "ControllerGetVolume", new ControllerGetVolumeRequest { VolumeId = "vol-00000000-0000-4000-8000-000000000000" }));
        var malformed = Assert.ThrowsAsync<RpcException>(() => cluster.CallAsync<ControllerGetVolumeResponse>("Controller",
            "ControllerGetVolume", new ControllerGetVolumeRequest { VolumeId = "../../etc/passwd" }));
        var empty = Assert.ThrowsAsync<RpcException>(() => cluster.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume",
            new DeleteVolumeRequest()));
        await cluster.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume",
            new DeleteVolumeRequest { VolumeId = "vol-00000000-0000-4000-8000-000000000000" });
        await cluster.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume", new DeleteVolumeRequest { VolumeId = untagged });

        Assert.That(found.Volume.VolumeId, Is.EqualTo(untagged), "an untagged ID is answered as it was made");
        Assert.That(unknown!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(malformed!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(empty!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(empty.Status.Detail, Does.Contain("volume_id"));
        Assert.That(Holders(cluster, "pvc-old"), Is.Empty, "the delete reached the node that held it");
    }

    [Test]
    public async Task AgentEndpoint_RefusesClientsWithoutTheCa_AndTheControllerRefusesAgentsOfAnotherCaOrName()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        using var dir = new TempDirectory();
        var other = TestCa.CreateRoot("another CA");
        var endpoint = cluster.AgentEndpoint(0);
        using var foreignMaterial = other.Write(dir.Path, "foreign", other.Client(), cluster.Ca).Load();
        using var trustingOtherMaterial = cluster.Ca.Write(dir.Path, "mistrusting", cluster.Ca.Client(), other).Load();
        using var foreign = CsiChannel.Create(endpoint, foreignMaterial, serverName: ThreeNodes.ServerName);
        using var mistrusting = CsiChannel.Create(endpoint, trustingOtherMaterial, serverName: ThreeNodes.ServerName);
        using var plain = CsiChannel.Create(endpoint);
        using var ownMaterial = cluster.Ca.Write(dir.Path, "own", cluster.Ca.Client(), cluster.Ca).Load();
        using var misnamed = CsiChannel.Create(endpoint, ownMaterial, serverName: "another-agent");
        using var byAddress = CsiChannel.Create(endpoint, ownMaterial);

        var refusals = new[] { foreign, mistrusting, plain, misnamed, byAddress }.Select(channel => Assert.ThrowsAsync<RpcException>(async () =>
            await new Agent.V1.Agent.AgentClient(channel).DescribeAsync(new Agent.V1.DescribeRequest(),
                deadline: DateTime.UtcNow.AddSeconds(10)))).ToList();
        using var own = CsiChannel.Create(endpoint, ownMaterial, serverName: ThreeNodes.ServerName);
        var described = await new Agent.V1.Agent.AgentClient(own).DescribeAsync(new Agent.V1.DescribeRequest());

        Assert.That(refusals.Select(r => r!.StatusCode), Has.None.EqualTo(StatusCode.OK));
        Assert.That(refusals[0]!.StatusCode, Is.EqualTo(StatusCode.Unavailable), "the agent refused the handshake");
        Assert.That(refusals[1]!.StatusCode, Is.EqualTo(StatusCode.Internal), "the client refused the agent");
        Assert.That(refusals[3]!.StatusCode, Is.EqualTo(StatusCode.Internal), "the agent's certificate names another server");
        Assert.That(refusals[4]!.StatusCode, Is.EqualTo(StatusCode.Internal), "nor does it name the address dialled");
        Assert.That(described.NodeId, Is.EqualTo("node-a"), "a client of the cluster's CA is served");
    }
}
