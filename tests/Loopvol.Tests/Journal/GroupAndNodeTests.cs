using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Tests.Journal;

public sealed class GroupAndNodeTests
{
    [Test]
    public void Members_AddedReplacedAndRemoved_ReadInOneQuery()
    {
        using var file = new JournalFile();
        var group = file.Created("group-1", ObjectKind.Group).Id;

        file.Journal.AddMembers(group, new Dictionary<string, string> { ["vol-a"] = "snap-a", ["vol-b"] = "" });
        file.Journal.AddMembers(group, new Dictionary<string, string> { ["vol-b"] = "snap-b" });
        file.Journal.RemoveMembers(group, ["vol-a", "vol-not-there"]);

        Assert.That(file.Journal.Members(group), Is.EqualTo(new Dictionary<string, string> { ["vol-b"] = "snap-b" }));
    }

    [Test]
    public void Members_OfAnUnknownGroup_AreRefused() =>
        Assert.Throws<NotFoundException>(() =>
        {
            using var file = new JournalFile();
            file.Journal.AddMembers(ObjectId.New(ObjectKind.Group), new Dictionary<string, string> { ["v"] = "s" });
        });

    [Test]
    public void MemberSnapshot_KnowsItsGroup_AndRemovingTheGroupRemovesItsMappings()
    {
        using var file = new JournalFile();
        var group = file.Created("g", ObjectKind.Group).Id;
        var snapshot = file.Created("s", ObjectKind.Snapshot);
        file.Journal.AddMembers(group, new Dictionary<string, string> { ["vol-a"] = snapshot.Id.ToString() });

        Assert.That(file.Journal.Get(snapshot.Id)!.Group, Is.EqualTo(group));
        file.Journal.Remove(group);
        Assert.That(file.Journal.Members(group), Is.Empty);
        Assert.That(file.Journal.Get(snapshot.Id)!.Group, Is.Null);
    }

    [Test]
    public void Node_StageThenPublishTwice_IsInUseWithReferenceCountTwo()
    {
        using var file = new JournalFile();
        var j = file.Journal;

        j.SetStage("vol-1", NodeState.Attached, "/staging", "/dev/loop3");
        j.SetStage("vol-1", NodeState.Mounted, "/staging", "/dev/loop3");
        j.AddPublication("vol-1", new Publication("/t1", false, "mount"));
        j.AddPublication("vol-1", new Publication("/t2", true, "mount"));
        j.AddPublication("vol-1", new Publication("/t2", true, "mount"));

        var volume = j.GetNodeVolume("vol-1")!;
        Assert.That(volume.State, Is.EqualTo(NodeState.InUse));
        Assert.That(volume.ReferenceCount, Is.EqualTo(2));
        Assert.That(volume.LoopDevice, Is.EqualTo("/dev/loop3"));
    }

    [Test]
    public void Node_UnstageWhilePublished_IsRefused_ThenAllowedAfterUnpublish()
    {
        using var file = new JournalFile();
        var j = file.Journal;
        j.SetStage("vol-1", NodeState.Attached, "/s", "/dev/loop0");
        j.SetStage("vol-1", NodeState.Mounted, "/s", "/dev/loop0");
        j.AddPublication("vol-1", new Publication("/t", false, "mount"));

        Assert.Throws<PreconditionFailedException>(() => j.SetStage("vol-1", NodeState.Attached, "/s", "/dev/loop0"));
        Assert.That(j.RemovePublication("vol-1", "/t"), Is.True);
        Assert.That(j.RemovePublication("vol-1", "/t"), Is.False);
        j.SetStage("vol-1", NodeState.Attached, "/s", "/dev/loop0");
        j.SetStage("vol-1", NodeState.Init);

        Assert.That(j.GetNodeVolume("vol-1"), Is.Null);
    }

    [TestCase(NodeState.Init, NodeState.Mounted)]
    [TestCase(NodeState.Mounted, NodeState.Init)]
    public void Node_SkippingAState_IsRefused(NodeState from, NodeState to)
    {
        using var file = new JournalFile();
        var j = file.Journal;
        if (from == NodeState.Mounted)
        {
            j.SetStage("vol-1", NodeState.Attached, "/s", "/dev/loop0");
            j.SetStage("vol-1", NodeState.Mounted, "/s", "/dev/loop0");
        }

        Assert.Throws<PreconditionFailedException>(() => j.SetStage("vol-1", to, "/s", "/dev/loop0"));
    }

    [Test]
    public void Node_PublishBeforeStage_IsRefused()
    {
        using var file = new JournalFile();

        Assert.Throws<PreconditionFailedException>(() =>
            file.Journal.AddPublication("vol-1", new Publication("/t", false, "mount")));
    }

    [Test]
    public void Node_SameTargetOtherArgumentsOrOtherVolume_IsAlreadyExists()
    {
        using var file = new JournalFile();
        var j = file.Journal;
        foreach (var v in new[] { "vol-1", "vol-2" })
        {
            j.SetStage(v, NodeState.Attached, $"/s/{v}", "/dev/loop0");
            j.SetStage(v, NodeState.Mounted, $"/s/{v}", "/dev/loop0");
        }
        j.AddPublication("vol-1", new Publication("/t", false, "mount"));

        Assert.Throws<AlreadyExistsException>(() => j.AddPublication("vol-1", new Publication("/t", true, "mount")));
        Assert.Throws<AlreadyExistsException>(() => j.AddPublication("vol-2", new Publication("/t", false, "mount")));
    }
}
