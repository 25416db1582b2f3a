using Google.Protobuf;
using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;
using Mode = Loopvol.Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace Loopvol.Tests.Node;

/// <summary>
/// The driver in this process, its pool on a real XFS file system from a loop device, and kubelet-like staging and
/// target directories in a temp directory. After each test nothing of the test may stay mounted or attached.
/// </summary>
public abstract class NodeFixture() : OnLoopFileSystem("xfs")
{
    protected const long MiB = 1 << 20;

    protected InProcessDriver Driver { get; private set; } = null!;

    protected TempDirectory Kubelet { get; private set; } = null!;

    private string _dataDirectory = "";

    [SetUp]
    public async Task StartAsync()
    {
        Kubelet = new TempDirectory();
        _dataDirectory = Path.Combine(MountPoint, $"data-{Guid.NewGuid():N}");
        Driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = _dataDirectory });
    }

    /// <summary>Stops the driver (if it still runs) and starts a new one on the same data directory.</summary>
    protected async Task RestartAsync()
    {
        await Driver.DisposeAsync();
        Driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = _dataDirectory });
    }

    [TearDown]
    public async Task StopAsync()
    {
        await Driver.DisposeAsync();
        var left = HostLeaks.Find().Where(l => l.Contains(Kubelet.Path, StringComparison.Ordinal) ||
                                               l.Contains("/pool/", StringComparison.Ordinal)).ToList();
        foreach (var mount in left.Where(l => l.StartsWith("mount ", StringComparison.Ordinal)))
        {
            await Processes.RunExpectingFailureAsync("umount", ["-l", mount["mount ".Length..]]); // Clean up, then fail.
        }
        Kubelet.Dispose();
        Assert.That(left, Is.Empty, "the test left mounts or loop devices behind");
    }

    protected Task<T> Node<T>(string method, IMessage request)
        where T : class, IMessage<T>, new() => Driver.CallAsync<T>("Node", method, request);

    protected Task<T> Controller<T>(string method, IMessage request)
        where T : class, IMessage<T>, new() => Driver.CallAsync<T>("Controller", method, request);

    protected async Task<string> CreateVolumeAsync(VolumeCapability capability, long bytes = 64 * MiB) =>
        (await Controller<CreateVolumeResponse>("CreateVolume", new CreateVolumeRequest
        {
            Name = $"pvc-{Guid.NewGuid():N}",
            CapacityRange = new CapacityRange { RequiredBytes = bytes },
            VolumeCapabilities = { capability },
        })).Volume.VolumeId;

    protected string Staging(string name = "staging") => Kubelet.Combine(name);

    protected string Target(string name = "target") => Kubelet.Combine("pods", name);

    protected Task StageAsync(string volume, VolumeCapability capability, string? staging = null) =>
        Node<NodeStageVolumeResponse>("NodeStageVolume", new NodeStageVolumeRequest
        {
            VolumeId = volume,
            StagingTargetPath = Directory.CreateDirectory(staging ?? Staging()).FullName,
            VolumeCapability = capability,
        });

    protected Task PublishAsync(string volume, VolumeCapability capability, string target, bool readOnly = false) =>
        Node<NodePublishVolumeResponse>("NodePublishVolume", new NodePublishVolumeRequest
        {
            VolumeId = volume,
            StagingTargetPath = Staging(),
            TargetPath = target,
            VolumeCapability = capability,
            Readonly = readOnly,
        });

    protected Task UnpublishAsync(string volume, string target) =>
        Node<NodeUnpublishVolumeResponse>("NodeUnpublishVolume", new NodeUnpublishVolumeRequest { VolumeId = volume, TargetPath = target });

    protected Task UnstageAsync(string volume) =>
        Node<NodeUnstageVolumeResponse>("NodeUnstageVolume", new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = Staging() });

    public static VolumeCapability Mount(string fs) => ControllerFixture.Mount(fs);

    public static VolumeCapability Block() => ControllerFixture.Block();

    public static VolumeCapability ReaderOnly(string fs) => ControllerFixture.Mount(fs, Mode.SingleNodeReaderOnly);
}
