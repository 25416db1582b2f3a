using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Csi;

public sealed class IdentityTests
{
    [Test]
    public async Task GetPluginInfo_Defaults_ReportsDriverNameAndAVendorVersion()
    {
        await using var driver = await InProcessDriver.StartAsync();

        var info = await driver.CallAsync<GetPluginInfoResponse>("Identity", "GetPluginInfo", new GetPluginInfoRequest());

        Assert.That(info.Name, Is.EqualTo("loopvol.csi.dev"));
        Assert.That(info.VendorVersion, Does.StartWith("0.1.0"));
    }

    [Test]
    public async Task GetPluginInfo_CustomDriverName_IsReported()
    {
        await using var driver = await InProcessDriver.StartAsync(s => s with { DriverName = "local.example.com" });

        var info = await driver.CallAsync<GetPluginInfoResponse>("Identity", "GetPluginInfo", new GetPluginInfoRequest());

        Assert.That(info.Name, Is.EqualTo("local.example.com"));
    }

    [Test]
    public async Task GetPluginCapabilities_AdvertisesAServiceExactlyWhenItIsImplemented()
    {
        await using var driver = await InProcessDriver.StartAsync();

        var caps = await driver.CallAsync<GetPluginCapabilitiesResponse>("Identity", "GetPluginCapabilities",
            new GetPluginCapabilitiesRequest());
        var advertised = caps.Capabilities.Where(c => c.Service is not null).Select(c => c.Service.Type).ToHashSet();

        Assert.That(advertised.Contains(PluginCapability.Types.Service.Types.Type.ControllerService),
            Is.EqualTo(await IsImplementedAsync(driver, "Controller", "ControllerGetCapabilities")));
        Assert.That(advertised.Contains(PluginCapability.Types.Service.Types.Type.GroupControllerService),
            Is.EqualTo(await IsImplementedAsync(driver, "GroupController", "GroupControllerGetCapabilities")));
        Assert.That(advertised.Contains(PluginCapability.Types.Service.Types.Type.SnapshotMetadataService),
            Is.EqualTo(await IsImplementedAsync(driver, "SnapshotMetadata", "GetMetadataAllocated")));
    }

    [Test]
    public async Task Probe_DataDirectoryWritable_IsReady()
    {
        await using var driver = await InProcessDriver.StartAsync();

        var probe = await driver.CallAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest());

        Assert.That(probe.Ready, Is.True);
    }

    [Test]
    public async Task Probe_DataDirectoryGone_IsNotReady_AndSaysWhyInTheLog()
    {
        await using var driver = await InProcessDriver.StartAsync();
        Directory.Delete(driver.Settings.DataDirectory, recursive: true);

        var probe = await driver.CallAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest());

        Assert.That(probe.Ready, Is.False);
        Assert.That(driver.Logs.AllText, Does.Contain("not ready: data directory"));
    }

    /// <summary>Services not built yet, and the attach RPCs that are off unless --enable-attach.</summary>
    private static IEnumerable<TestCaseData> NotYetImplemented() =>
        CsiReflection.Descriptor.Services.Where(s => s.Name is not ("Identity" or "Controller" or "Node" or "GroupController" or "SnapshotMetadata"))
            .SelectMany(s => s.Methods)
            .Concat(new[] { "ControllerPublishVolume", "ControllerUnpublishVolume" }.Select(m => CsiClient.Describe("Controller", m)))
            .Select(m => new TestCaseData(m.Service.Name, m.Name).SetName($"{m.Service.Name}_{m.Name}_IsUnimplemented"));

    [TestCaseSource(nameof(NotYetImplemented))]
    public async Task MethodWithoutHandler_AnswersUnimplemented(string service, string method)
    {
        await using var driver = await InProcessDriver.StartAsync();

        var status = await StatusOfAsync(driver, service, method);

        Assert.That(status, Is.EqualTo(StatusCode.Unimplemented));
    }

    private static async Task<bool> IsImplementedAsync(InProcessDriver driver, string service, string method) =>
        await StatusOfAsync(driver, service, method) != StatusCode.Unimplemented;

    private static async Task<StatusCode> StatusOfAsync(InProcessDriver driver, string service, string method)
    {
        var descriptor = CsiClient.Describe(service, method);
        var request = (Google.Protobuf.IMessage)Activator.CreateInstance(descriptor.InputType.ClrType)!;
        try
        {
            if (descriptor.IsServerStreaming)
            {
                await driver.Client.ServerStreamingAsync<GetPluginInfoResponse>(service, method, request);
            }
            else
            {
                await driver.Client.UnaryAsync<Google.Protobuf.WellKnownTypes.Empty>(service, method, request);
            }
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
