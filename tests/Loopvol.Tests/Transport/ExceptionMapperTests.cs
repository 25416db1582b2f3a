using Grpc.Core;
using Loopvol.Core.Errors;
using Loopvol.Csi.Errors;

namespace Loopvol.Tests.Transport;

/// <summary>The one place domain errors become CSI status codes: every domain error has its code, with its message.</summary>
public sealed class ExceptionMapperTests
{
    private static IEnumerable<TestCaseData> Errors()
    {
        yield return new TestCaseData(new InvalidArgumentException("m"), StatusCode.InvalidArgument);
        yield return new TestCaseData(new NotFoundException("m"), StatusCode.NotFound);
        yield return new TestCaseData(new AlreadyExistsException("m"), StatusCode.AlreadyExists);
        yield return new TestCaseData(new ResourceExhaustedException("m"), StatusCode.ResourceExhausted);
        yield return new TestCaseData(new PreconditionFailedException("m"), StatusCode.FailedPrecondition);
        yield return new TestCaseData(new OutOfRangeException("m"), StatusCode.OutOfRange);
        yield return new TestCaseData(new BusyException("m"), StatusCode.Aborted);
        yield return new TestCaseData(new AbortedException("m"), StatusCode.Aborted);
        yield return new TestCaseData(new StaleTokenException("m"), StatusCode.Aborted);
        yield return new TestCaseData(new UnavailableException("m"), StatusCode.Unavailable);
    }

    [TestCaseSource(nameof(Errors))]
    public void DomainError_HasItsCode_AndItsMessage(LoopvolException error, StatusCode code)
    {
        var status = CsiExceptionMapper.Map(error);

        Assert.That(status?.StatusCode, Is.EqualTo(code));
        Assert.That(status?.Detail, Is.EqualTo("m"));
    }

    [Test]
    public void EveryDomainErrorType_IsMapped()
    {
        var types = typeof(LoopvolException).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(LoopvolException)) && !t.IsAbstract && t != typeof(CommandFailedException));
        var listed = Errors().Select(c => c.Arguments[0]!.GetType()).ToHashSet();

        Assert.That(types, Is.SubsetOf(listed), "a new domain error needs its CSI code in CsiExceptionMapper and here");
    }
}
