using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using Loopvol.Grpc.Internal;

namespace Loopvol.Grpc.Client;

/// <summary>Reads a response's message frames, then its status from the trailers (or the headers).</summary>
internal sealed class ResponseReader<T>(HttpResponseMessage response, int maxMessageSize)
    where T : class, IMessage<T>, new()
{
    private static readonly MessageParser<T> Parser = new(() => new T());
    private Stream? _body;

    /// <summary>The next message, or null at the end of the body.</summary>
    public async Task<T?> ReadAsync(CancellationToken token)
    {
        if (response.Headers.Contains(GrpcHeaders.Status))
        {
            return null; // Trailers-only: no body.
        }
        _body ??= await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
        var header = new byte[MessageFraming.HeaderSize];
        var read = await ReadFullyAsync(_body, header, token).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }
        if (read < header.Length)
        {
            throw new RpcException(StatusCode.Internal, "the response ended inside a frame header");
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (header[0] != 0)
        {
            throw new RpcException(StatusCode.Internal, "the server sent a compressed message");
        }
        if (length > (uint)maxMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"response message is {length} bytes, larger than the limit of {maxMessageSize} bytes");
        }
        var payload = new byte[length];
        if (await ReadFullyAsync(_body, payload, token).ConfigureAwait(false) < payload.Length)
        {
            throw new RpcException(StatusCode.Internal, "the response ended inside a message");
        }
        try
        {
            return Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(StatusCode.Internal, $"the response message could not be parsed: {e.Message}");
        }
    }

    public Status Status()
    {
        var source = response.Headers.Contains(GrpcHeaders.Status) ? response.Headers : response.TrailingHeaders;
        if (!source.TryGetValues(GrpcHeaders.Status, out var codes) ||
            !int.TryParse(codes.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return new Status(StatusCode.Internal, "the response carried no grpc-status");
        }
        var detail = source.TryGetValues(GrpcHeaders.Message, out var messages)
            ? PercentEncoding.Decode(messages.FirstOrDefault() ?? "")
            : "";
        return new Status((StatusCode)code, detail);
    }

    private static async Task<int> ReadFullyAsync(Stream stream, byte[] buffer, CancellationToken token)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(total), token).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }
}
