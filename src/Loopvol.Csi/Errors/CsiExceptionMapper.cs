using Grpc.Core;
using Loopvol.Core.Errors;

namespace Loopvol.Csi.Errors;

/// <summary>The one table from the domain's typed errors to CSI status codes.</summary>
public static class CsiExceptionMapper
{
    /// <summary>The status for <paramref name="exception"/>; null when it is not a domain error (a bug: INTERNAL).</summary>
    public static Status? Map(Exception exception) => exception switch
    {
        InvalidArgumentException e => new Status(StatusCode.InvalidArgument, e.Message),
        NotFoundException e => new Status(StatusCode.NotFound, e.Message),
        AlreadyExistsException e => new Status(StatusCode.AlreadyExists, e.Message),
        ResourceExhaustedException e => new Status(StatusCode.ResourceExhausted, e.Message),
        PreconditionFailedException e => new Status(StatusCode.FailedPrecondition, e.Message),
        OutOfRangeException e => new Status(StatusCode.OutOfRange, e.Message),
        BusyException e => new Status(StatusCode.Aborted, e.Message),
        AbortedException e => new Status(StatusCode.Aborted, e.Message),
        StaleTokenException e => new Status(StatusCode.Aborted, e.Message),
        CommandFailedException e => new Status(StatusCode.Internal, e.Message),
        UnavailableException e => new Status(StatusCode.Unavailable, e.Message),
        _ => null,
    };
}
