using Loopvol.Core.Errors;

namespace Loopvol.Tests.Journal;

public sealed class ControllerPublicationTests
{
    [Test]
    public async Task Publish_RepeatIsFine_OtherFlagIsAlreadyExists_OtherNodeIsPrecondition()
    {
        using var file = new JournalFile();
        var j = file.Journal;

        await j.AddControllerPublicationAsync("vol-1", "node-1", readOnly: false);
        await j.AddControllerPublicationAsync("vol-1", "node-1", readOnly: false);

        Assert.ThrowsAsync<AlreadyExistsException>(() => j.AddControllerPublicationAsync("vol-1", "node-1", readOnly: true));
        Assert.ThrowsAsync<PreconditionFailedException>(() => j.AddControllerPublicationAsync("vol-1", "node-2", readOnly: false));
        Assert.That(j.ControllerPublications("vol-1"), Is.EqualTo(new[] { "node-1" }));
    }

    [Test]
    public async Task Unpublish_OneNodeOrAll_RepeatsAreFine()
    {
        using var file = new JournalFile();
        var j = file.Journal;
        await j.AddControllerPublicationAsync("vol-1", "node-1", false);
        await j.AddControllerPublicationAsync("vol-2", "node-1", true);

        await j.RemoveControllerPublicationsAsync("vol-1", "node-9");
        Assert.That(j.ControllerPublications("vol-1"), Has.Count.EqualTo(1));
        await j.RemoveControllerPublicationsAsync("vol-1", "node-1");
        await j.RemoveControllerPublicationsAsync("vol-1", "node-1");
        await j.RemoveControllerPublicationsAsync("vol-2", null);

        Assert.That(j.ControllerPublications("vol-1"), Is.Empty);
        Assert.That(j.ControllerPublications("vol-2"), Is.Empty);
    }
}
