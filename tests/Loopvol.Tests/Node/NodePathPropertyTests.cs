using FsCheck;
using FsCheck.Fluent;
using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Node;

/// <summary>
/// Random node calls for one volume (A), and for IDs never issued, with staging and target paths drawn from what
/// an adversary would send: links to a foreign mount, to a bystander's files and to the pool; '..' and empty parts;
/// the pool and data directories and files in them; another volume's (B's) staging and target paths and paths
/// inside them; a foreign tmpfs. After every call: every mount of A's device is at a path the journal records for
/// A, every other mount is exactly as before, and nothing that existed outside A's recorded paths was removed
/// (but for an empty, unmounted directory at the very path an unpublish or unstage named, which they may tidy).
/// </summary>
public sealed class NodePathPropertyTests : NodeFixture
{
    private enum Call
    {
        Stage,
        Publish,
        Unpublish,
        Unstage,
    }

    private readonly Dictionary<Call, int> _succeeded = [];
    private int _refused;

    [Test]
    public async Task RandomPaths_NeverTouchAnythingButTheVolumesOwn()
    {
        var world = await WorldAsync();
        try
        {
            // Half the time one of A's plausible paths (so calls also succeed), else anything on the list.
            var index = Gen.Frequency((1, Gen.Choose(0, 2)), (1, Gen.Choose(0, world.Paths.Count - 1)));
            var step = from call in Gen.Elements(Enum.GetValues<Call>())
                       from path in index
                       from second in Gen.Frequency((2, Gen.Constant(-1)), (1, Gen.Choose(0, world.Paths.Count - 1)))
                       from unknownVolume in Gen.Frequency((1, Gen.Constant(true)), (5, Gen.Constant(false)))
                       select (call, path, second, unknownVolume);
            var program = Gen.ListOf(step).Select(l => l.Take(25).ToArray()).ToArbitrary();
            Prop.ForAll(program, p => Holds(world, p)).Check(Config.QuickThrowOnFailure.WithMaxTest(12));
            Assert.That(_succeeded.Keys, Is.SupersetOf(Enum.GetValues<Call>()), "every kind of call succeeded at least once");
            Assert.That(_refused, Is.GreaterThan(20), "and many were refused");
        }
        finally
        {
            await Processes.RunAsync("umount", [world.Foreign]);
            await UnpublishAsync(world.B, world.TargetB);
            await Node<NodeUnstageVolumeResponse>("NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = world.B, StagingTargetPath = world.StagingB });
        }
    }

    private bool Holds(World world, (Call Call, int Path, int Second, bool Unknown)[] program)
    {
        var ran = new List<string>();
        foreach (var (call, p, q, unknown) in program)
        {
            var path = world.Paths[p];
            // A publish names A's recorded staging path (-1) or anything on the list.
            var other = q >= 0 ? world.Paths[q] : Driver.Driver.Journal.GetNodeVolume(world.A)?.StagingPath ?? world.Paths[0];
            var id = unknown ? $"vol-{Guid.NewGuid()}" : world.A;
            var before = Snapshot(world);
            var code = Run(call, id, path, other, world);
            ran.Add($"{call}({(unknown ? "unknown" : "A")}, {path}, {other}) -> {code}");
            var after = Snapshot(world);
            var problems = Compare(world, before, after, call is Call.Unpublish or Call.Unstage ? path : null);
            if (problems.Count > 0)
            {
                Assert.Fail($"after {string.Join("\n  ", ran)}:\n{string.Join("\n", problems)}");
            }
        }
        TearDownA(world);
        return true;
    }

    private StatusCode Run(Call call, string volume, string path, string other, World world)
    {
        try
        {
            switch (call)
            {
                case Call.Stage:
                    Node<NodeStageVolumeResponse>("NodeStageVolume", new NodeStageVolumeRequest
                    {
                        VolumeId = volume, StagingTargetPath = path, VolumeCapability = world.Capability,
                    }).GetAwaiter().GetResult();
                    break;
                case Call.Publish:
                    Node<NodePublishVolumeResponse>("NodePublishVolume", new NodePublishVolumeRequest
                    {
                        VolumeId = volume, StagingTargetPath = other, TargetPath = path, VolumeCapability = world.Capability,
                    }).GetAwaiter().GetResult();
                    break;
                case Call.Unpublish:
                    UnpublishAsync(volume, path).GetAwaiter().GetResult();
                    break;
                default:
                    Node<NodeUnstageVolumeResponse>("NodeUnstageVolume",
                        new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = path }).GetAwaiter().GetResult();
                    break;
            }
            _succeeded[call] = _succeeded.GetValueOrDefault(call) + 1;
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            _refused++;
            Assert.That(e.StatusCode, Is.Not.EqualTo(StatusCode.Internal).And.Not.EqualTo(StatusCode.Unknown), e.Status.Detail);
            return e.StatusCode;
        }
    }

    /// <summary>Unpublishes and unstages A wherever the journal says it is, so the next program starts clean.</summary>
    private void TearDownA(World world)
    {
        if (Driver.Driver.Journal.GetNodeVolume(world.A) is not { } node)
        {
            return;
        }
        foreach (var publication in node.Publications)
        {
            UnpublishAsync(world.A, publication.TargetPath).GetAwaiter().GetResult();
        }
        Node<NodeUnstageVolumeResponse>("NodeUnstageVolume",
            new NodeUnstageVolumeRequest { VolumeId = world.A, StagingTargetPath = node.StagingPath }).GetAwaiter().GetResult();
        Assert.That(Driver.Driver.Journal.GetNodeVolume(world.A), Is.Null);
    }

    private sealed record State(IReadOnlyList<string> Mounts, IReadOnlyDictionary<string, (ulong Inode, bool Directory, bool Empty)> Files,
        IReadOnlyList<string> APaths, string? ADevice);

    private State Snapshot(World world)
    {
        var node = Driver.Driver.Journal.GetNodeVolume(world.A);
        var aPaths = node is null ? [] : node.Publications.Select(p => p.TargetPath).Prepend(node.StagingPath!).ToList();
        var mounts = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' '))
            .Select(f => $"{Unescape(f[4])} {f[Array.IndexOf(f, "-") + 2]} {f[3]}").ToList();
        var files = new Dictionary<string, (ulong, bool, bool)>(StringComparer.Ordinal);
        foreach (var root in new[] { Kubelet.Path, Driver.Settings.DataDirectory })
        {
            Walk(root, files);
        }
        return new State(mounts, files, aPaths, node?.LoopDevice);
    }

    private static void Walk(string directory, Dictionary<string, (ulong, bool, bool)> files)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            var isDirectory = entry is DirectoryInfo && entry.LinkTarget is null;
            var empty = isDirectory && !Directory.EnumerateFileSystemEntries(entry.FullName).Any();
            files[entry.FullName] = (Inode(entry.FullName), isDirectory, empty);
            if (isDirectory && !entry.FullName.EndsWith("/foreign", StringComparison.Ordinal))
            {
                Walk(entry.FullName, files);
            }
        }
    }

    private static List<string> Compare(World world, State before, State after, string? tidied)
    {
        var problems = new List<string>();
        var aPaths = before.APaths.Concat(after.APaths).ToList();
        bool Ours(string path) => aPaths.Any(p => Loopvol.NodeHost.Paths.PathGuard.IsWithin(path, p));
        foreach (var mount in before.Mounts.Except(after.Mounts).Where(m => !Ours(m.Split(' ')[0])))
        {
            problems.Add($"unmounted: {mount}");
        }
        foreach (var mount in after.Mounts.Except(before.Mounts))
        {
            var point = mount.Split(' ')[0];
            var recorded = after.APaths.Any(p => p == point);
            var isA = after.ADevice is { } d && (mount.Contains($" {d} ", StringComparison.Ordinal) ||
                                                 mount.EndsWith($" /{Path.GetFileName(d)}", StringComparison.Ordinal));
            if (!recorded || !isA)
            {
                problems.Add($"mounted somewhere not recorded for A: {mount}");
            }
        }
        foreach (var (path, entry) in before.Files)
        {
            if (Ours(path) || (path == tidied && entry is { Directory: true, Empty: true }))
            {
                continue;
            }
            if (!after.Files.TryGetValue(path, out var now) || now.Inode != entry.Inode)
            {
                problems.Add($"removed or replaced: {path}");
            }
        }
        _ = world;
        return problems;
    }

    private async Task<World> WorldAsync()
    {
        var capability = Mount("ext4");
        var a = await CreateVolumeAsync(capability);
        var b = await CreateVolumeAsync(capability);
        var stagingB = Directory.CreateDirectory(Kubelet.Combine("b-staging")).FullName;
        var targetB = Kubelet.Combine("pods", "b-target");
        await StageAsync(b, capability, stagingB);
        await Node<NodePublishVolumeResponse>("NodePublishVolume", new NodePublishVolumeRequest
        {
            VolumeId = b, StagingTargetPath = stagingB, TargetPath = targetB, VolumeCapability = capability,
        });
        await File.WriteAllTextAsync(Path.Combine(targetB, "b.txt"), "b");
        var foreign = Directory.CreateDirectory(Kubelet.Combine("foreign")).FullName;
        await Processes.RunAsync("mount", ["-t", "tmpfs", "foreign", foreign]);
        Directory.CreateDirectory(Path.Combine(foreign, "sub"));
        var bystander = Directory.CreateDirectory(Kubelet.Combine("bystander")).FullName;
        await File.WriteAllTextAsync(Path.Combine(bystander, "file"), "keep");
        Directory.CreateDirectory(Path.Combine(bystander, "empty-but-not-yours"));
        File.CreateSymbolicLink(Kubelet.Combine("to-foreign"), foreign);
        File.CreateSymbolicLink(Kubelet.Combine("to-bystander"), bystander);
        File.CreateSymbolicLink(Kubelet.Combine("to-pool"), Driver.Settings.PoolDirectory);
        File.CreateSymbolicLink(Kubelet.Combine("to-b"), stagingB);
        var data = Driver.Settings.DataDirectory;
        var pool = Driver.Settings.PoolDirectory;
        var image = Directory.GetFiles(pool, "*.img")[0];
        string[] paths =
        [
            Kubelet.Combine("a-staging"), Kubelet.Combine("pods", "a-target"), Kubelet.Combine("pods", "a-target-2"),
            Kubelet.Combine("deep", "new", "path"), Kubelet.Path, Kubelet.Combine("pods"),
            stagingB, targetB, Path.Combine(stagingB, "inside"), Path.Combine(targetB, "inside"),
            foreign, Path.Combine(foreign, "sub"), bystander, Path.Combine(bystander, "file"),
            Path.Combine(bystander, "empty-but-not-yours"),
            Kubelet.Combine("to-foreign"), Kubelet.Combine("to-foreign", "sub"), Kubelet.Combine("to-bystander", "file"),
            Kubelet.Combine("to-pool"), Kubelet.Combine("to-pool", "x"), Kubelet.Combine("to-b"),
            pool, Path.Combine(pool, ".incoming"), image, data, Path.Combine(data, "journal.db"), Path.GetDirectoryName(data)!,
            Kubelet.Combine("pods", "..", "escape"), Kubelet.Path + "//double", "relative/path", "/",
        ];
        return new World(a, b, capability, stagingB, targetB, foreign, paths);
    }

    private sealed record World(string A, string B, VolumeCapability Capability, string StagingB, string TargetB,
        string Foreign, IReadOnlyList<string> Paths);

    private static ulong Inode(string path) => Loopvol.NodeHost.Paths.PathCalls.StatEntry(path)?.Inode ?? 0;

    private static string Unescape(string text) => text.Replace("\\040", " ", StringComparison.Ordinal);
}
