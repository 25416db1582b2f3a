using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Pipelines;
using Google.Protobuf;

namespace Loopvol.Grpc.Internal;

/// <summary>
/// The gRPC length-prefixed message: a compressed flag byte, a 4-byte big-endian length, then the message.
/// </summary>
internal static class MessageFraming
{
    public const int HeaderSize = 5;

    /// <summary>
    /// Reads the next message, or returns null when the body ended cleanly before one began.
    /// Throws <see cref="RpcException"/> for an oversized, truncated or wrongly compressed frame.
    /// </summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(PipeReader reader, MessageParser<T> parser,
        int maxMessageSize, string? encoding, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryReadFrame(ref buffer, maxMessageSize, out var compressed, out var payload))
            {
                try
                {
                    return Parse(parser, compressed ? Decompress(payload, encoding, maxMessageSize) : payload);
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start);
                }
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                if (buffer.Length == 0)
                {
                    return null;
                }
                throw new RpcException(StatusCode.Internal,
                    $"the request body ended inside a message frame ({buffer.Length} bytes of an incomplete frame)");
            }
        }
    }

    /// <summary>Waits for the end of the request body; any further bytes are a protocol error.</summary>
    public static async ValueTask ExpectEndAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var length = result.Buffer.Length;
        reader.AdvanceTo(result.Buffer.End);
        if (length > 0)
        {
            throw new RpcException(StatusCode.Internal, "a unary call sent more than one request message");
        }
        if (!result.IsCompleted)
        {
            await ExpectEndAsync(reader, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes one uncompressed frame into the writer (not flushed).</summary>
    public static void Write(IBufferWriter<byte> writer, IMessage message)
    {
        var size = message.CalculateSize();
        var header = writer.GetSpan(HeaderSize);
        header[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(header[1..], (uint)size);
        writer.Advance(HeaderSize);
        if (size > 0)
        {
            message.WriteTo(writer.GetSpan(size)[..size]);
            writer.Advance(size);
        }
    }

    /// <summary>Encodes one frame as a byte array (the client side).</summary>
    public static byte[] ToArray(IMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(HeaderSize + message.CalculateSize());
        Write(buffer, message);
        return buffer.WrittenSpan.ToArray();
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxMessageSize, out bool compressed,
        out ReadOnlySequence<byte> payload)
    {
        compressed = false;
        payload = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        compressed = header[0] switch
        {
            0 => false,
            1 => true,
            _ => throw new RpcException(StatusCode.Internal,
                $"message frame has an invalid compressed-flag byte {header[0]}"),
        };
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"request message is {length} bytes, larger than the limit of {maxMessageSize} bytes");
        }
        if (buffer.Length < HeaderSize + length)
        {
            return false;
        }
        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    private static T Parse<T>(MessageParser<T> parser, ReadOnlySequence<byte> payload)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(StatusCode.Internal, $"the request message could not be parsed: {e.Message}");
        }
    }

    private static ReadOnlySequence<byte> Decompress(ReadOnlySequence<byte> payload, string? encoding, int max)
    {
        if (encoding is null || encoding == "identity")
        {
            throw new RpcException(StatusCode.Internal,
                "a message is marked compressed but the call negotiated no grpc-encoding");
        }
        using var input = new MemoryStream(payload.ToArray());
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = gzip.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (output.Length + read > max)
                {
                    throw new RpcException(StatusCode.ResourceExhausted,
                        $"decompressed request message is larger than the limit of {max} bytes");
                }
                output.Write(chunk, 0, read);
            }
        }
        catch (InvalidDataException e)
        {
            throw new RpcException(StatusCode.Internal, $"the gzip-compressed message is corrupt: {e.Message}");
        }
        return new ReadOnlySequence<byte>(output.ToArray());
    }
}
