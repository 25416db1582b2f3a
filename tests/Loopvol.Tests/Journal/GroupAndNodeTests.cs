using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Tests.Journal;

public sealed class GroupAndNodeTests
{
    [Test]
    public async Task Members_AddedReplacedAndRemoved_ReadInOneQuery()
    {
        using var file = new JournalFile();
        var group = (await file.CreatedAsync("group-1", ObjectKind.Group)).Id;

        await file.Journal.AddMembersAsync(group, new Dictionary<string, string> { ["vol-a"] = "snap-a", ["vol-b"] = "" });
        await file.Journal.AddMembersAsync(group, new Dictionary<string, string> { ["vol-b"] = "snap-b" });
        await file.Journal.RemoveMembersAsync(group, ["vol-a", "vol-not-there"]);

        Assert.That(file.Journal.Members(group), Is.EqualTo(new Dictionary<string, string> { ["vol-b"] = "snap-b" }));
    }

    [Test]
    public void Members_OfAnUnknownGroup_AreRefused() =>
        Assert.ThrowsAsync<NotFoundException>(async () =>
        {
            using var file = new JournalFile();
            await file.Journal.AddMembersAsync(ObjectId.New(ObjectKind.Group), new Dictionary<string, string> { ["v"] = "s" });
        });

    [Test]
    public async Task MemberSnapshot_KnowsItsGroup_AndRemovingTheGroupRemovesItsMappings()
    {
        using var file = new JournalFile();
        var group = (await file.CreatedAsync("g", ObjectKind.Group)).Id;
        var snapshot = await file.CreatedAsync("s", ObjectKind.Snapshot);
        await file.Journal.AddMembersAsync(group, new Dictionary<string, string> { ["vol-a"] = snapshot.Id.ToString() });

        Assert.That(file.Journal.Get(snapshot.Id)!.Group, Is.EqualTo(group));
        await file.Journal.RemoveAsync(group);
        Assert.That(file.Journal.Members(group), Is.Empty);
        Assert.That(file.Journal.Get(snapshot.Id)!.Group, Is.Null);
    }

    [Test]
    public async Task Node_StageThenPublishTwice_IsInUseWithReferenceCountTwo()
    {
        using var file = new JournalFile();
        var j = file.Journal;

        await j.SetStageAsync("vol-1", NodeState.Attached, "/staging", "/dev/loop3");
        await j.SetStageAsync("vol-1", NodeState.Mounted, "/staging", "/dev/loop3");
        await j.AddPublicationAsync("vol-1", new Publication("/t1", false, "mount"));
        await j.AddPublicationAsync("vol-1", new Publication("/t2", true, "mount"));
        await j.AddPublicationAsync("vol-1", new Publication("/t2", true, "mount"));

        var volume = j.GetNodeVolume("vol-1")!;
        Assert.That(volume.State, Is.EqualTo(NodeState.InUse));
        Assert.That(volume.ReferenceCount, Is.EqualTo(2));
        Assert.That(volume.LoopDevice, Is.EqualTo("/dev/loop3"));
    }

    [Test]
    public async Task Node_UnstageWhilePublished_IsRefused_ThenAllowedAfterUnpublish()
    {
        using var file = new JournalFile();
        var j = file.Journal;
        await j.SetStageAsync("vol-1", NodeState.Attached, "/s", "/dev/loop0");
        await j.SetStageAsync("vol-1", NodeState.Mounted, "/s", "/dev/loop0");
        await j.AddPublicationAsync("vol-1", new Publication("/t", false, "mount"));

        Assert.ThrowsAsync<PreconditionFailedException>(() => j.SetStageAsync("vol-1", NodeState.Attached, "/s", "/dev/loop0"));
        Assert.That(await j.RemovePublicationAsync("vol-1", "/t"), Is.True);
        Assert.That(await j.RemovePublicationAsync("vol-1", "/t"), Is.False);
        await j.SetStageAsync("vol-1", NodeState.Attached, "/s", "/dev/loop0");
        await j.SetStageAsync("vol-1", NodeState.Init);

        Assert.That(j.GetNodeVolume("vol-1"), Is.Null);
    }

    [TestCase(NodeState.Init, NodeState.Mounted)]
    [TestCase(NodeState.Mounted, NodeState.Init)]
    public async Task Node_SkippingAState_IsRefused(NodeState from, NodeState to)
    {
        using var file = new JournalFile();
        var j = file.Journal;
        if (from == NodeState.Mounted)
        {
            await j.SetStageAsync("vol-1", NodeState.Attached, "/s", "/dev/loop0");
            await j.SetStageAsync("vol-1", NodeState.Mounted, "/s", "/dev/loop0");
        }

        Assert.ThrowsAsync<PreconditionFailedException>(() => j.SetStageAsync("vol-1", to, "/s", "/dev/loop0"));
    }

    [Test]
    public async Task Node_PublishBeforeStage_IsRefused()
    {
        using var file = new JournalFile();

        Assert.ThrowsAsync<PreconditionFailedException>(() =>
            file.Journal.AddPublicationAsync("vol-1", new Publication("/t", false, "mount")));
    }

    [Test]
    public async Task Node_SameTargetOtherArgumentsOrOtherVolume_IsAlreadyExists()
    {
        using var file = new JournalFile();
        var j = file.Journal;
        foreach (var v in new[] { "vol-1", "vol-2" })
        {
            await j.SetStageAsync(v, NodeState.Attached, $"/s/{v}", "/dev/loop0");
            await j.SetStageAsync(v, NodeState.Mounted, $"/s/{v}", "/dev/loop0");
        }
        await j.AddPublicationAsync("vol-1", new Publication("/t", false, "mount"));

        Assert.ThrowsAsync<AlreadyExistsException>(() => j.AddPublicationAsync("vol-1", new Publication("/t", true, "mount")));
        Assert.ThrowsAsync<AlreadyExistsException>(() => j.AddPublicationAsync("vol-2", new Publication("/t", false, "mount")));
    }
}
