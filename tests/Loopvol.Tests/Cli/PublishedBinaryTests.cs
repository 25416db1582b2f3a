using System.Diagnostics;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;
using CsiController = Loopvol.Csi.V1.Controller;
using CsiNode = Loopvol.Csi.V1.Node;

namespace Loopvol.Tests.Cli;

/// <summary>
/// The native AOT executable, as production runs it: one file, serving CSI on its Unix socket with the journal in
/// SQLite linked in, a real loop device and a real ext4 mount, and a clean stop on SIGTERM.
/// </summary>
public sealed partial class PublishedBinaryTests
{
    private const int SigTerm = 15;
    private string _executable = "";

    [OneTimeSetUp]
    public async Task FindAsync() => _executable = await PublishedExecutable.FindAsync();

    [Test]
    public void Publish_MakesOneNativeExecutable_AndNothingBesideIt()
    {
        var header = new byte[4];
        using (var file = File.OpenRead(_executable))
        {
            file.ReadExactly(header);
        }

        Assert.That(header, Is.EqualTo("\u007fELF"u8.ToArray()), "an ELF executable, not a managed assembly");
        Assert.That(File.GetUnixFileMode(_executable).HasFlag(UnixFileMode.UserExecute), Is.True);
        Assert.That(Directory.GetFileSystemEntries(Path.GetDirectoryName(_executable)!).Select(Path.GetFileName),
            Is.EqualTo(new[] { "loopvol" }), "no shared library (SQLite is linked in), no symbols, no docs");
    }

    [Test]
    public async Task ServesIdentity_AndACreateStageCycle_ThenStopsOnSigterm_RemovingItsSocket()
    {
        Privileged.Require();
        using var dir = new TempDirectory();
        var socket = dir.Combine("data", "csi.sock");
        var output = new StringBuilder();
        using var driver = StartCapturing(output, _executable, "--data-dir", dir.Combine("data"), "--nodeid", "aot-node");
        try
        {
            using (var channel = CsiChannel.Create(GrpcEndpoint.Unix(socket)))
            {
                var identity = new Identity.IdentityClient(channel);
                await WaitUntilReadyAsync(identity, driver, output);
                var info = await identity.GetPluginInfoAsync(new GetPluginInfoRequest());
                Assert.That(info.Name, Is.EqualTo("loopvol.csi.dev"));
                await CreateStageUnstageDeleteAsync(channel, dir);
            }

            Assert.That(Kill(driver.Id, SigTerm), Is.Zero);
            await driver.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

            Assert.That(driver.ExitCode, Is.Zero, Text(output));
            Assert.That(File.Exists(socket), Is.False, "the socket file must be removed");
        }
        finally
        {
            if (!driver.HasExited)
            {
                driver.Kill(entireProcessTree: true);
                await driver.WaitForExitAsync();
            }
        }
        HostLeaks.AssertNone();
    }

    private static async Task CreateStageUnstageDeleteAsync(GrpcChannel channel, TempDirectory dir)
    {
        var controller = new CsiController.ControllerClient(channel);
        var node = new CsiNode.NodeClient(channel);
        var capability = ControllerFixture.Mount("ext4");
        var created = await controller.CreateVolumeAsync(new CreateVolumeRequest
        {
            Name = "pvc-published",
            CapacityRange = new CapacityRange { RequiredBytes = 64 << 20 },
            VolumeCapabilities = { capability },
        });
        var volume = created.Volume.VolumeId;
        var staging = Directory.CreateDirectory(dir.Combine("kubelet", "staging")).FullName;

        await node.NodeStageVolumeAsync(new NodeStageVolumeRequest
        {
            VolumeId = volume,
            StagingTargetPath = staging,
            VolumeCapability = capability,
            VolumeContext = { created.Volume.VolumeContext },
        });
        Assert.That(MountedFileSystem(staging), Is.EqualTo("ext4"), "staged: an ext4 file system on a loop device");

        await node.NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = staging });
        Assert.That(MountedFileSystem(staging), Is.Null, "unstaged: nothing mounted there");
        await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume });
        var gone = Assert.ThrowsAsync<RpcException>(() => node.NodeStageVolumeAsync(new NodeStageVolumeRequest
        {
            VolumeId = volume,
            StagingTargetPath = staging,
            VolumeCapability = capability,
        }).ResponseAsync);
        Assert.That(gone!.StatusCode, Is.EqualTo(StatusCode.NotFound), "deleted: the volume is gone");
    }

    private static async Task WaitUntilReadyAsync(Identity.IdentityClient identity, Process driver, StringBuilder output)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            Assert.That(driver.HasExited, Is.False, () => $"loopvol exited before serving:\n{Text(output)}");
            try
            {
                var probe = await identity.ProbeAsync(new ProbeRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                Assert.That(probe.Ready, Is.True, "Probe reports ready");
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static string? MountedFileSystem(string path)
    {
        // mountinfo: ID parent major:minor root mount-point options [optional…] - fstype source super-options
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields[4] == path)
            {
                return fields[Array.IndexOf(fields, "-") + 1];
            }
        }
        return null;
    }

    private static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return Process.Start(info)!;
    }

    /// <summary>Starts the executable with its standard output and error both read into <paramref name="output"/>.</summary>
    private static Process StartCapturing(StringBuilder output, string file, params string[] args)
    {
        var process = Start(file, args);
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
