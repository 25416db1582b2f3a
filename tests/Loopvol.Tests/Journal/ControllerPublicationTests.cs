using Loopvol.Core.Errors;

namespace Loopvol.Tests.Journal;

public sealed class ControllerPublicationTests
{
    [Test]
    public void Publish_RepeatIsFine_OtherFlagIsAlreadyExists_OtherNodeIsPrecondition()
    {
        using var file = new JournalFile();
        var j = file.Journal;

        j.AddControllerPublication("vol-1", "node-1", readOnly: false);
        j.AddControllerPublication("vol-1", "node-1", readOnly: false);

        Assert.Throws<AlreadyExistsException>(() => j.AddControllerPublication("vol-1", "node-1", readOnly: true));
        Assert.Throws<PreconditionFailedException>(() => j.AddControllerPublication("vol-1", "node-2", readOnly: false));
        Assert.That(j.ControllerPublications("vol-1"), Is.EqualTo(new[] { "node-1" }));
    }

    [Test]
    public void Unpublish_OneNodeOrAll_RepeatsAreFine()
    {
        using var file = new JournalFile();
        var j = file.Journal;
        j.AddControllerPublication("vol-1", "node-1", false);
        j.AddControllerPublication("vol-2", "node-1", true);

        j.RemoveControllerPublications("vol-1", "node-9");
        Assert.That(j.ControllerPublications("vol-1"), Has.Count.EqualTo(1));
        j.RemoveControllerPublications("vol-1", "node-1");
        j.RemoveControllerPublications("vol-1", "node-1");
        j.RemoveControllerPublications("vol-2", null);

        Assert.That(j.ControllerPublications("vol-1"), Is.Empty);
        Assert.That(j.ControllerPublications("vol-2"), Is.Empty);
    }
}
