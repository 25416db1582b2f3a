using Grpc.Core;
using Loopvol.Cluster.Discovery;
using Loopvol.Cluster.Routing;
using Loopvol.Core.Concurrency;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi;
using Loopvol.Csi.Services;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// The controller's connections to two real agents (each a driver's pool behind the real server, here on Unix sockets
/// in cleartext; mutual TLS is the transport's own test): Locate answers, the agents' own answers pass through, and
/// an agent that stops makes calls for it UNAVAILABLE, soon without even trying, while the other keeps serving.
/// </summary>
public sealed class AgentConnectionsTests
{
    [Test]
    public async Task TwoAgents_LocateAndAnswersPassThrough_AStoppedAgentIsUnavailable_TheOtherServes()
    {
        await using var nodeA = await InProcessDriver.StartAsync(s => s with { NodeId = "node-a" });
        await using var nodeB = await InProcessDriver.StartAsync(s => s with { NodeId = "node-b" });
        using var tracker = new CallTracker();
        var serverA = await StartAgentAsync(nodeA, tracker);
        var serverB = await StartAgentAsync(nodeB, tracker);
        var a = new AgentAddress("node-a", new Uri("https://127.0.0.1:1"));
        var b = new AgentAddress("node-b", new Uri("https://127.0.0.1:2"));
        var sockets = new Dictionary<string, GrpcEndpoint> { ["node-a"] = serverA.Endpoint, ["node-b"] = serverB.Endpoint };
        using var agents = new AgentConnections(agent => CsiChannel.Create(sockets[agent.NodeId]),
            new AgentCallOptions { Deadline = TimeSpan.FromSeconds(5), Retries = 1, BreakAfter = 2, BreakFor = TimeSpan.FromMinutes(1) });
        var volume = await CreateAsync(nodeB);

        var onA = await agents.HoldsAsync(a, volume, ObjectKind.Volume, default);
        var onB = await agents.HoldsAsync(b, volume, ObjectKind.Volume, default);
        var notFound = Assert.ThrowsAsync<RpcException>(() => agents.CallAsync(a, (channel, call) =>
            new Loopvol.Csi.V1.Controller.ControllerClient(channel).ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest
            {
                VolumeId = volume, CapacityRange = new CapacityRange { RequiredBytes = 64 << 20 },
            }, call).ResponseAsync, default));
        await serverB.DisposeAsync();
        var down = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            down.Add(Assert.ThrowsAsync<UnavailableException>(() => agents.HoldsAsync(b, volume, ObjectKind.Volume, default))!.Message);
        }
        var stillA = await agents.HoldsAsync(a, volume, ObjectKind.Volume, default);

        Assert.That((onA, onB), Is.EqualTo((false, true)));
        Assert.That(notFound!.StatusCode, Is.EqualTo(StatusCode.NotFound), "the agent's own answer, as it gave it");
        Assert.That(down, Has.All.Contains("node-b"));
        Assert.That(down[0], Does.Contain("did not answer"), "tried, and the agent was not there");
        Assert.That(down[^1], Does.Contain("is failing"), "then refused at once by the agent's open circuit");
        Assert.That(stillA, Is.False, "node-a answers throughout");
        await serverA.DisposeAsync();
    }

    [Test]
    public async Task AnAgentClosingItsConnectionAsTheCallStarts_IsTriedAgain_ThenUnavailable()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "closing.sock");
        await using var closing = new ClosingAgent(path);
        using var agents = new AgentConnections(_ => CsiChannel.Create(GrpcEndpoint.Unix(path)),
            new AgentCallOptions { Deadline = TimeSpan.FromSeconds(5), Retries = 2, BreakAfter = 100 });
        var agent = new AgentAddress("node-c", new Uri("https://127.0.0.1:3"));

        var e = Assert.ThrowsAsync<UnavailableException>(() => agents.HoldsAsync(agent, "vol-x", ObjectKind.Volume, default));

        Assert.That(e!.Message, Does.Contain("node-c").And.Contain("did not answer"));
        Assert.That(closing.Connections, Is.EqualTo(3), "the first attempt and both retries reached the socket");
    }

    private static async Task<CsiServer> StartAgentAsync(InProcessDriver driver, CallTracker tracker)
    {
        var identity = new DriverIdentity("loopvol.csi.dev", "0.1.0");
        var server = CsiServer.Create(GrpcEndpoint.Unix(driver.Settings.DataDirectory + "-agent.sock"),
            new CsiServices(new IdentityService(identity, [], [], NullLogger<IdentityService>.Instance))
            {
                Controller = new ControllerService(driver.Driver.Pool, new ControllerOptions(driver.Settings.NodeId, false)),
                Agent = new AgentService(driver.Driver.Pool, new Loopvol.NodeHost.MountQuiescer(driver.Driver.Journal, TimeSpan.FromSeconds(10), Loopvol.Core.Faults.NoFaults.Instance), identity, driver.Settings.NodeId),
            }, new CsiServerOptions(), tracker, NullLoggerFactory.Instance);
        await server.StartAsync();
        return server;
    }

    private static async Task<string> CreateAsync(InProcessDriver driver) =>
        (await driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = "pvc-b",
            CapacityRange = new CapacityRange { RequiredBytes = 16 << 20 },
            VolumeCapabilities = { ControllerFixture.Mount("ext4") },
        })).Volume.VolumeId;
}
