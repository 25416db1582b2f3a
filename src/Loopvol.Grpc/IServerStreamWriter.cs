namespace Loopvol.Grpc;

/// <summary>Writes the messages of a server-streaming response, one at a time.</summary>
public interface IServerStreamWriter<in T>
{
    /// <summary>Sends one message. Throws once the call has ended (deadline, cancellation).</summary>
    Task WriteAsync(T message);
}
