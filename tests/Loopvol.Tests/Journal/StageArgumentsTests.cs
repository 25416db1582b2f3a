using Loopvol.Journal.Model;

namespace Loopvol.Tests.Journal;

/// <summary>The persisted form of a stage request's arguments, pinned: a change here breaks every node's journal.</summary>
public sealed class StageArgumentsTests
{
    private static IEnumerable<TestCaseData> Golden()
    {
        yield return new TestCaseData(StageArguments.ForBlock(), """{"v":1,"access":"block"}""");
        yield return new TestCaseData(new StageArguments(false, "ext4", ["noatime", "nodev", "noatime"], null),
            """{"v":1,"access":"mount","fs":"ext4","flags":["noatime","nodev"]}""");
        yield return new TestCaseData(new StageArguments(false, "xfs", [], "1000"),
            """{"v":1,"access":"mount","fs":"xfs","flags":[],"group":"1000"}""");
    }

    [TestCaseSource(nameof(Golden))]
    public void Serialize_IsTheGoldenForm_AndParsesBack(StageArguments arguments, string golden)
    {
        Assert.That(arguments.Serialize(), Is.EqualTo(golden));
        Assert.That(StageArguments.Parse(golden), Is.EqualTo(arguments));
    }

    [TestCase("block", true, "", "")]
    [TestCase("mount;ext4;nodev,noatime;", false, "ext4", "noatime,nodev")]
    [TestCase("mount;xfs;;1000", false, "xfs", "")]
    [TestCase("ext4", false, "ext4", "")]
    public void RowsFromBeforeTheVersionedForm_StillRead(string stored, bool block, string fs, string flags)
    {
        var parsed = StageArguments.Parse(stored);

        Assert.That(parsed.Block, Is.EqualTo(block));
        Assert.That(parsed.FsType, Is.EqualTo(fs));
        Assert.That(string.Join(',', parsed.MountFlags), Is.EqualTo(flags));
    }

    [Test]
    public void TheOldAndTheNewFormOfOneRequest_AreEqual_SoARetryAfterAnUpgradeIsTheSameStage()
    {
        var old = StageArguments.Parse("mount;ext4;nodev,noatime;1000");
        var now = new StageArguments(false, "ext4", ["noatime", "nodev"], "1000");

        Assert.That(now, Is.EqualTo(old));
        Assert.That(now, Is.Not.EqualTo(new StageArguments(false, "ext4", ["noatime"], "1000")));
    }

    [TestCase("""{"v":2,"access":"block"}""")]
    [TestCase("mount;ext4")]
    [TestCase("")]
    public void UnknownForms_AreRefused_NotGuessed(string stored) =>
        Assert.Throws<FormatException>(() => StageArguments.Parse(stored));
}
