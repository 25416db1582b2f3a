using Google.Protobuf;
using Grpc.Core;
using Grpc.Reflection.V1Alpha;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Transport;

/// <summary>What every call sees at the CSI boundary: deadlines, sizes, encodings, unknown methods, errors, logs.</summary>
public sealed class CallBehaviourTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Deadline_PassesWhileTheHandlerWorks_DeadlineExceeded()
    {
        var gate = new Gate("create-volume.reserved");
        await using var driver = await InProcessDriver.StartAsync(s => s with { Faults = gate });

        var call = driver.Client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", NewVolume("pvc-late"),
            TimeSpan.FromMilliseconds(300));
        Assert.That(await gate.WaitEnteredAsync(Patience), Is.True);
        var error = Assert.ThrowsAsync<RpcException>(() => call);
        gate.Open();

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
    }

    [Test]
    public async Task ClientCancels_CallEndsCancelled_AndTheDriverServesOn()
    {
        var gate = new Gate("create-volume.reserved");
        await using var driver = await InProcessDriver.StartAsync(s => s with { Faults = gate });
        using var cancel = new CancellationTokenSource();

        var call = driver.Client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", NewVolume("pvc-left"),
            cancellationToken: cancel.Token);
        Assert.That(await gate.WaitEnteredAsync(Patience), Is.True);
        await cancel.CancelAsync();
        var error = Assert.ThrowsAsync<RpcException>(() => call);
        gate.Open();

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Cancelled));
        // The abandoned handler may still hold the name (ABORTED): the client policy repeats until it is free.
        var again = await new CsiClientPolicy().CallAsync(_ =>
            driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", NewVolume("pvc-left")));
        Assert.That(again.Volume.VolumeId, Does.StartWith("vol-"), "the same create, repeated, completes");
    }

    [Test]
    public async Task OversizedRequest_IsResourceExhausted_AndOneAtTheLimitIsServed()
    {
        await using var driver = await InProcessDriver.StartAsync(s => s with { MaxMessageSize = 4096 });
        var big = new ValidateVolumeCapabilitiesRequest { VolumeId = "vol-x", Parameters = { ["k"] = new string('a', 5000) } };
        var fits = new GetPluginInfoRequest();

        var error = Assert.ThrowsAsync<RpcException>(() =>
            driver.CallAsync<ValidateVolumeCapabilitiesResponse>("Controller", "ValidateVolumeCapabilities", big));

        Assert.That(big.CalculateSize(), Is.GreaterThan(4096));
        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That((await driver.CallAsync<GetPluginInfoResponse>("Identity", "GetPluginInfo", fits)).Name, Is.Not.Empty);
    }

    [Test]
    public async Task GzipCompressedRequest_IsServed()
    {
        await using var driver = await InProcessDriver.StartAsync();
        var body = RawCall.Frame(1, Gzip(new GetPluginInfoRequest().ToByteArray()));

        var raw = await RawCall.SendAsync(driver.Settings.Endpoint, "/csi.v1.Identity/GetPluginInfo", body,
            new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });

        Assert.That(raw.GrpcStatus, Is.EqualTo("0"), raw.GrpcMessage);
    }

    [Test]
    public async Task UnsupportedEncoding_IsUnimplemented_AndNamesTheSupportedOnes()
    {
        await using var driver = await InProcessDriver.StartAsync();

        var raw = await RawCall.SendAsync(driver.Settings.Endpoint, "/csi.v1.Identity/GetPluginInfo",
            RawCall.Frame(1, [1, 2, 3]), new Dictionary<string, string> { ["grpc-encoding"] = "snappy" });

        Assert.That(raw.GrpcStatus, Is.EqualTo("12"));
        Assert.That(raw.Headers.TryGetValues("grpc-accept-encoding", out var accepted), Is.True);
        Assert.That(string.Join(",", accepted!), Does.Contain("gzip"));
    }

    [Test]
    public async Task MalformedMessage_IsAnErrorStatus_AndTheDriverServesOn()
    {
        await using var driver = await InProcessDriver.StartAsync();

        var raw = await RawCall.SendAsync(driver.Settings.Endpoint, "/csi.v1.Identity/GetPluginInfo", RawCall.Frame(0, [0xFF, 0xFF, 0xFF]));

        Assert.That(raw.GrpcStatus, Is.Not.Null.And.Not.EqualTo("0"));
        Assert.That((await driver.CallAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest())).Ready, Is.True);
    }

    [TestCase("no.such.Service", "Method")]
    [TestCase("csi.v1.Identity", "NoSuchMethod")]
    public async Task UnknownMethod_IsUnimplemented(string service, string method)
    {
        await using var driver = await InProcessDriver.StartAsync();

        var error = Assert.ThrowsAsync<RpcException>(() =>
            driver.Client.UnaryAsync<Google.Protobuf.WellKnownTypes.Empty>(service, method, new Google.Protobuf.WellKnownTypes.Empty()));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
        Assert.That(error.Status.Detail, Does.Contain($"/{service}/{method}"));
        Assert.That(driver.Logs.AllText, Does.Contain($"/{service}/{method} answered Unimplemented: unknown method"));
    }

    [Test]
    public async Task UnexpectedException_IsInternalWithAGenericMessage_AndLoggedWithItsStack()
    {
        await using var driver = await InProcessDriver.StartAsync(s => s with { Faults = new Bug("create-volume.reserved") });

        var error = Assert.ThrowsAsync<RpcException>(() =>
            driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", NewVolume("pvc-bug")));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Internal));
        Assert.That(error.Status.Detail, Does.Contain("/csi.v1.Controller/CreateVolume").And.Not.Contain("a bug at"));
        var logged = driver.Logs.Lines.Single(l => l.Text.Contains("failed with an unexpected exception", StringComparison.Ordinal));
        Assert.That(logged.Level, Is.EqualTo(LogLevel.Error));
        Assert.That(logged.Error?.Message, Is.EqualTo("a bug at create-volume.reserved"));
    }

    [Test]
    public async Task EveryCall_IsLoggedWithMethodCodeAndDuration_ProbesAtTrace()
    {
        await using var driver = await InProcessDriver.StartAsync();

        await driver.CallAsync<GetPluginInfoResponse>("Identity", "GetPluginInfo", new GetPluginInfoRequest());
        await driver.CallAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest());
        Assert.ThrowsAsync<RpcException>(() => driver.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume", new DeleteVolumeRequest()));

        var lines = driver.Logs.Lines;
        Assert.That(lines.Single(l => l.Text.StartsWith("/csi.v1.Identity/GetPluginInfo answered OK in", StringComparison.Ordinal)).Level,
            Is.EqualTo(LogLevel.Information));
        Assert.That(lines.Single(l => l.Text.StartsWith("/csi.v1.Identity/Probe answered OK in", StringComparison.Ordinal)).Level,
            Is.EqualTo(LogLevel.Trace));
        Assert.That(lines.Any(l => l.Text.StartsWith("/csi.v1.Controller/DeleteVolume answered InvalidArgument in", StringComparison.Ordinal)
                                   && l.Text.Contains("volume_id is required", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task Reflection_ListsTheCsiServices_OnlyWhenAskedFor()
    {
        await using var plain = await InProcessDriver.StartAsync();
        await using var reflecting = await InProcessDriver.StartAsync(s => s with { EnableReflection = true });

        var services = await ListServicesAsync(reflecting);
        var refused = Assert.ThrowsAsync<RpcException>(() => ListServicesAsync(plain));

        Assert.That(services, Is.SupersetOf(new[] { "csi.v1.Identity", "csi.v1.Controller", "csi.v1.Node", "csi.v1.GroupController" }));
        Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
    }

    private static async Task<IReadOnlyList<string>> ListServicesAsync(InProcessDriver driver)
    {
        var client = new ServerReflection.ServerReflectionClient(driver.Client.Channel);
        using var call = client.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);
        return [.. call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name)];
    }

    private static CreateVolumeRequest NewVolume(string name) => new()
    {
        Name = name,
        CapacityRange = new CapacityRange { RequiredBytes = 1 << 20 },
        VolumeCapabilities = { ControllerFixture.Mount("ext4") },
    };

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }
}
