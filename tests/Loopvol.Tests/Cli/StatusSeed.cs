using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.Pool;

namespace Loopvol.Tests.Cli;

/// <summary>
/// A data directory for <c>loopvol status</c>, made through the journal API with an image for each object that has
/// one: two created volumes (3 and 5 MiB), a fresh reservation (1 MiB requested), a volume being deleted, two
/// snapshots and a group snapshot; on this node the 3 MiB volume staged and published read-only, the 5 MiB one
/// attached. With <c>problems</c>, also a faulty record and an orphan image, each of which needs an operator.
/// </summary>
public sealed record StatusSeed(
    ObjectId Staged,
    ObjectId Attached,
    ObjectId? Faulty,
    ObjectId? Orphan,
    string StagingPath,
    string TargetPath)
{
    public const long MiB = 1 << 20;

    /// <summary>What the journal promised to volumes: the created sizes and the reservation's requested size.</summary>
    public const long ProvisionedBytes = (3 + 5 + 1) * MiB;

    public static async Task<StatusSeed> CreateAsync(string dataDir, bool problems)
    {
        var pool = new PoolLayout(Path.Combine(dataDir, "pool"));
        Directory.CreateDirectory(pool.Directory);
        using var j = Loopvol.Journal.Journal.Open(Path.Combine(dataDir, "journal.db"));

        async Task<ObjectId> Created(ObjectKind kind, string name, long bytes)
        {
            var id = (await j.MarkCreatedAsync((await j.ReserveAsync(kind, name, Arguments(bytes))).Id, bytes)).Id;
            if (kind != ObjectKind.Group)
            {
                File.WriteAllBytes(pool.ImagePath(id.ToString()), []);
            }
            return id;
        }

        var staged = await Created(ObjectKind.Volume, "pvc-staged", 3 * MiB);
        var attached = await Created(ObjectKind.Volume, "pvc-attached", 5 * MiB);
        await j.ReserveAsync(ObjectKind.Volume, "pvc-fresh", Arguments(MiB));
        await j.MarkDeletingAsync(await Created(ObjectKind.Volume, "pvc-going", 7 * MiB));
        await Created(ObjectKind.Snapshot, "snap-1", 3 * MiB);
        await Created(ObjectKind.Snapshot, "snap-2", 3 * MiB);
        await Created(ObjectKind.Group, "group-1", 0);

        var staging = Path.Combine(dataDir, "kubelet", "staging");
        var target = Path.Combine(dataDir, "kubelet", "pods", "target");
        await j.SetStageAsync(staged.ToString(), NodeState.Attached, staging, "/dev/loop41", new StageArguments(false, "ext4", [], null));
        await j.SetStageAsync(staged.ToString(), NodeState.Mounted, staging, "/dev/loop41", new StageArguments(false, "ext4", [], null));
        await j.AddPublicationAsync(staged.ToString(), new Publication(target, ReadOnly: true, AccessType: "mount"));
        await j.SetStageAsync(attached.ToString(), NodeState.Attached, null, "/dev/loop42", StageArguments.ForBlock());

        if (!problems)
        {
            return new StatusSeed(staged, attached, null, null, staging, target);
        }
        var faulty = (await j.ReserveAsync(ObjectKind.Volume, "pvc-faulty", Arguments(MiB))).Id;
        await j.MarkFaultyAsync(faulty);
        var orphan = ObjectId.New(ObjectKind.Volume);
        File.WriteAllBytes(pool.ImagePath(orphan.ToString()), []);
        return new StatusSeed(staged, attached, faulty, orphan, staging, target);
    }

    private static DefiningArguments Arguments(long bytes) => new() { RequiredBytes = bytes };
}
