namespace Loopvol.Grpc;

/// <summary>Thrown by handlers to answer a specific status, and by the client when a call ends with one.</summary>
public sealed class RpcException : Exception
{
    public RpcException(StatusCode code, string detail)
        : base(detail)
    {
        Status = new Status(code, detail);
    }

    public RpcException(Status status)
        : base(status.Detail)
    {
        Status = status;
    }

    public Status Status { get; }

    public StatusCode StatusCode => Status.Code;
}
