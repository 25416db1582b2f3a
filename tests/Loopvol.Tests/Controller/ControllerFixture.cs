using Google.Protobuf;
using Loopvol.Csi.V1;
using Loopvol.Tests.Support;
using Mode = Loopvol.Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace Loopvol.Tests.Controller;

/// <summary>The driver in this process with its data directory (journal and pool) on a real mounted file system.</summary>
public abstract class ControllerFixture(string fsType) : OnLoopFileSystem(fsType)
{
    protected const long MiB = 1 << 20;

    protected InProcessDriver Driver { get; private set; } = null!;

    [SetUp]
    public async Task StartAsync() => Driver = await InProcessDriver.StartAsync(s => Customize(s with
    {
        DataDirectory = Path.Combine(MountPoint, $"data-{Guid.NewGuid():N}"),
    }));

    /// <summary>Settings a fixture changes for all its tests.</summary>
    protected virtual Loopvol.Hosting.DriverSettings Customize(Loopvol.Hosting.DriverSettings settings) => settings;

    [TearDown]
    public async Task StopAsync() => await Driver.DisposeAsync();

    protected Task<T> Call<T>(string method, IMessage request)
        where T : class, IMessage<T>, new() => Driver.CallAsync<T>("Controller", method, request);

    protected string ImagePath(string id) => Path.Combine(Driver.Settings.PoolDirectory, id + ".img");

    public static VolumeCapability Mount(string fs = "", Mode mode = Mode.SingleNodeWriter) => new()
    {
        Mount = new VolumeCapability.Types.MountVolume { FsType = fs },
        AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
    };

    public static VolumeCapability Block(Mode mode = Mode.SingleNodeWriter) => new()
    {
        Block = new VolumeCapability.Types.BlockVolume(),
        AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
    };

    protected static CreateVolumeRequest NewVolume(string name, long bytes = 16 * MiB, VolumeCapability? capability = null) => new()
    {
        Name = name,
        CapacityRange = new CapacityRange { RequiredBytes = bytes },
        VolumeCapabilities = { capability ?? Mount() },
    };

    protected async Task<Volume> CreateAsync(string name, long bytes = 16 * MiB, VolumeCapability? capability = null) =>
        (await Call<CreateVolumeResponse>("CreateVolume", NewVolume(name, bytes, capability))).Volume;
}
