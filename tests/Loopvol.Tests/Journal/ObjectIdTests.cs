using Loopvol.Core.Errors;
using Loopvol.Core.Ids;

namespace Loopvol.Tests.Journal;

public sealed class ObjectIdTests
{
    [Test]
    public void RoundTrip_EveryKind()
    {
        foreach (var kind in Enum.GetValues<ObjectKind>())
        {
            var id = ObjectId.New(kind);
            Assert.That(ObjectId.Parse(id.ToString(), kind, "id"), Is.EqualTo(id));
        }
    }

    [TestCase("")]
    [TestCase("vol-")]
    [TestCase("vol-../../etc/passwd")]
    [TestCase("vol-0B9E2F3A-1C2D-4E5F-8A9B-0C1D2E3F4A5B")]
    [TestCase("vol-0b9e2f3a1c2d4e5f8a9b0c1d2e3f4a5b")]
    [TestCase("vol-0b9e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5")]
    [TestCase("vol-0b9e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5bx")]
    [TestCase("snap-0b9e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b")]
    [TestCase("vol-0b9e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5/")]
    [TestCase("vol-0b9e2f3a-1c2d-4e5f-8a9b+0c1d2e3f4a5b")]
    public void Parse_AnythingButAVolumeIdOfThisDriver_IsInvalidArgumentNamingTheField(string text)
    {
        var error = Assert.Throws<InvalidArgumentException>(() => ObjectId.Parse(text, ObjectKind.Volume, "volume_id"));
        Assert.That(error!.Message, Does.StartWith("volume_id"));
    }
}
