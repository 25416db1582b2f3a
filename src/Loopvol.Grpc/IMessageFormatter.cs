using Google.Protobuf;

namespace Loopvol.Grpc;

/// <summary>Renders a request or response for the debug log; must leave out anything secret.</summary>
public interface IMessageFormatter
{
    string Format(IMessage message);
}
