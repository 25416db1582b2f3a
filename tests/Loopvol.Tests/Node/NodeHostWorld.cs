using System.Diagnostics;
using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.NodeHost;
using Loopvol.NodeHost.Mounts;
using Loopvol.NodeHost.Paths;
using Loopvol.Pool;
using Loopvol.Pool.Model;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Node;

/// <summary>
/// The node's domain without the CSI layer: a real journal and pool in a temp directory, a real volume image,
/// <see cref="NodeVolumes"/> with a capturing logger and the test's fault injector, and kubelet-like staging and
/// target paths. Real loop devices and mounts; dispose unstages what is left and checks nothing stays behind.
/// </summary>
internal sealed class NodeHostWorld : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ILoggerFactory _loggers;

    public NodeHostWorld(IFaultInjector? faults = null)
    {
        Privileged.Require();
        _loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        Logs = logs;
        var poolDirectory = _dir.Combine("pool");
        var dataDirectory = Directory.CreateDirectory(_dir.Combine("data")).FullName;
        Journal = Loopvol.Journal.Journal.Open(Path.Combine(dataDirectory, "journal.db"));
        var images = new ImageStore(new PoolLayout(poolDirectory));
        Pool = new StoragePool(Journal, images, new PoolOptions());
        Node = new NodeVolumes(Journal, images.Layout, faults ?? NoFaults.Instance, new PathGuard(dataDirectory, poolDirectory),
            _loggers.CreateLogger("Loopvol.Node"));
    }

    public CapturingLoggerProvider Logs { get; }

    public Loopvol.Journal.Journal Journal { get; }

    public StoragePool Pool { get; }

    public NodeVolumes Node { get; }

    public string Staging => _dir.Combine("kubelet", "staging");

    public string Target => _dir.Combine("kubelet", "pods", "target");

    /// <summary>A file in this world's temp directory (so a loop device bound to it counts as ours in leak checks).</summary>
    public string FilePath(string name) => _dir.Combine(name);

    public async Task<ObjectId> CreateVolumeAsync() =>
        (await Pool.CreateVolumeAsync(new VolumeRequest { Name = $"pvc-{Guid.NewGuid():N}", RequiredBytes = 64L << 20 }, default)).Id;

    public Task StageAsync(ObjectId volume, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Staging);
        return Node.StageAsync(new StageRequest(volume, Staging, new StageArguments(false, "ext4", [], null)), cancellationToken);
    }

    public Task PublishAsync(ObjectId volume) =>
        Node.PublishAsync(new PublishRequest(volume, Staging, Target, ReadOnly: false, Block: false), default);

    public string? DeviceOf(ObjectId volume) => Journal.GetNodeVolume(volume.ToString())?.LoopDevice;

    /// <summary>Log lines with the given event id's text (the capturing logger keeps the text, so match on it).</summary>
    public IReadOnlyList<string> Lines(string fragment) =>
        Logs.Lines.Where(l => l.Text.Contains(fragment, StringComparison.Ordinal)).Select(l => l.Text).ToList();

    /// <summary>A process that sits with its working directory inside <paramref name="directory"/>, keeping the mount busy.</summary>
    public static Process SitIn(string directory) =>
        Process.Start(new ProcessStartInfo("sleep", "600") { WorkingDirectory = directory })!;

    /// <summary>Ends a process started by the test and waits until it is gone (and so has left any mount).</summary>
    public static void End(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
        }
        process.WaitForExit();
    }

    public void Dispose()
    {
        try
        {
            foreach (var node in Journal.NodeVolumes())
            {
                var id = ObjectId.Parse(node.VolumeId, ObjectKind.Volume, "volume_id");
                foreach (var publication in node.Publications)
                {
                    Node.UnpublishAsync(id, publication.TargetPath, default).GetAwaiter().GetResult();
                }
                Node.UnstageAsync(id, node.StagingPath!, default).GetAwaiter().GetResult();
            }
        }
        finally
        {
            foreach (var mount in new[] { Target, Staging }.Where(m => MountTable.At(m) is not null))
            {
                Processes.Run("umount", "-l", mount); // Clean up whatever the test left, then fail below.
            }
            Pool.DrainDeletesAsync().GetAwaiter().GetResult();
            Journal.Dispose();
            _loggers.Dispose();
            var left = HostLeaks.Find().Where(l => l.Contains(_dir.Path, StringComparison.Ordinal)).ToList();
            _dir.Dispose();
            Assert.That(left, Is.Empty, "the test left mounts or loop devices behind");
        }
    }
}
