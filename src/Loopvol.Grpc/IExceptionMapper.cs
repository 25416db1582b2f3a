namespace Loopvol.Grpc;

/// <summary>
/// Turns an exception a handler threw into the status the client sees. The transport asks it for every exception
/// that is not an <see cref="RpcException"/>; null means "unexpected", answered as INTERNAL with a generic message.
/// </summary>
public interface IExceptionMapper
{
    Status? Map(Exception exception);
}
