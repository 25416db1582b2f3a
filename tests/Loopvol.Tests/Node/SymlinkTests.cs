using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Node;

/// <summary>
/// Staging and target paths that run through symbolic links, tried against the real executable in a private mount
/// namespace of its own: had it followed a link to /etc or /, the mount would land only in that namespace (and be
/// seen in its mount table), never on this machine's real /etc.
/// </summary>
public sealed class SymlinkTests
{
    private static readonly VolumeCapability Ext4 = ControllerFixture.Mount("ext4");

    [Test]
    public async Task LinksToSystemDirectories_AreRefused_NothingIsMountedThere_AndTeardownStillWorks()
    {
        Privileged.Require();
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("kubelet", "pods"));
        File.CreateSymbolicLink(dir.Combine("kubelet", "staging-link"), "/etc");
        File.CreateSymbolicLink(dir.Combine("kubelet", "pods", "target-link"), "/");
        Directory.CreateSymbolicLink(dir.Combine("kubelet", "via"), "/");
        await using var driver = await DriverProcess.StartInPrivateMountNamespaceAsync(dir.Combine("data"));
        using var client = new CsiClient(driver.Endpoint);
        var volume = await CreateAsync(client);
        var before = await File.ReadAllLinesAsync(driver.MountInfoPath);

        foreach (var staging in new[] { dir.Combine("kubelet", "staging-link"), dir.Combine("kubelet", "via", "etc"),
                     dir.Combine("kubelet", "staging-link", "ssl") })
        {
            var error = Assert.ThrowsAsync<RpcException>(() => StageAsync(client, volume, staging));
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument), staging);
            Assert.That(error.Status.Detail, Does.Contain("staging_target_path").And.Contain("symbolic link"));
        }

        var good = Directory.CreateDirectory(dir.Combine("kubelet", "staging")).FullName;
        await StageAsync(client, volume, good);
        foreach (var linked in new[] { dir.Combine("kubelet", "pods", "target-link"), dir.Combine("kubelet", "via", "tmp", "x") })
        {
            var error = Assert.ThrowsAsync<RpcException>(() => PublishAsync(client, volume, good, linked));
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument), linked);
            Assert.That(error.Status.Detail, Does.Contain("target_path").And.Contain("symbolic link"));
        }
        var mounts = await File.ReadAllLinesAsync(driver.MountInfoPath);
        Assert.That(mounts.Select(MountPoint), Does.Not.Contain("/etc").And.Not.Contain("/tmp/x"));
        Assert.That(mounts.Select(MountPoint).Count(m => m == "/"), Is.EqualTo(before.Select(MountPoint).Count(m => m == "/")),
            "nothing was mounted over /");

        // A recorded target swapped for a link after the publish: teardown refuses to follow it, and says so.
        var target = dir.Combine("kubelet", "pods", "t");
        await PublishAsync(client, volume, good, target);
        var moved = dir.Combine("kubelet", "pods", "t-moved");
        Directory.Move(target, moved); // Renaming a mount point's directory is allowed; the mount moves with it.
        File.CreateSymbolicLink(target, "/etc");
        var unpublish = Assert.ThrowsAsync<RpcException>(() => UnpublishAsync(client, volume, target));
        Assert.That(unpublish!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(unpublish.Status.Detail, Does.Contain("symbolic link"));
        Assert.That(File.Exists("/etc/hostname") || Directory.Exists("/etc"), Is.True);
        File.Delete(target);
        Directory.Move(moved, target);
        await UnpublishAsync(client, volume, target);
        await client.UnaryAsync<NodeUnstageVolumeResponse>("Node", "NodeUnstageVolume",
            new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = good });

        var after = (await File.ReadAllLinesAsync(driver.MountInfoPath)).Select(MountPoint);
        Assert.That(after.Where(m => m.StartsWith(dir.Path, StringComparison.Ordinal)), Is.Empty, "torn down");
        Assert.That(File.Exists(target) || Directory.Exists(target), Is.False);
        driver.Signal(15);
        Assert.That(await driver.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, driver.Output);
        Assert.That(HostLeaks.Find().Where(l => l.Contains(dir.Path, StringComparison.Ordinal)), Is.Empty);
    }

    private static string MountPoint(string line) => line.Split(' ')[4];

    private static async Task<string> CreateAsync(CsiClient client) =>
        (await client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = "pvc-links",
            CapacityRange = new CapacityRange { RequiredBytes = 64L << 20 },
            VolumeCapabilities = { Ext4 },
        })).Volume.VolumeId;

    private static Task StageAsync(CsiClient client, string volume, string staging) =>
        client.UnaryAsync<NodeStageVolumeResponse>("Node", "NodeStageVolume", new NodeStageVolumeRequest
        {
            VolumeId = volume, StagingTargetPath = staging, VolumeCapability = Ext4,
        });

    private static Task PublishAsync(CsiClient client, string volume, string staging, string target) =>
        client.UnaryAsync<NodePublishVolumeResponse>("Node", "NodePublishVolume", new NodePublishVolumeRequest
        {
            VolumeId = volume, StagingTargetPath = staging, TargetPath = target, VolumeCapability = Ext4,
        });

    private static Task UnpublishAsync(CsiClient client, string volume, string target) =>
        client.UnaryAsync<NodeUnpublishVolumeResponse>("Node", "NodeUnpublishVolume",
            new NodeUnpublishVolumeRequest { VolumeId = volume, TargetPath = target });
}
