using Loopvol.Core.Concurrency;
using Microsoft.Extensions.Logging;

namespace Loopvol.Pool.Extents;

/// <summary>
/// The answer to a snapshot metadata request, read a page at a time: ordered, non-overlapping ranges of whole
/// blocks, each computed only when a page asks for it, so a caller that stops early never pays for the rest. It
/// holds the images it reads open (a snapshot deleted meanwhile is still read to the end) until disposed.
/// </summary>
public sealed class MetadataStream : IDisposable
{
    private readonly IEnumerator<BlockRange> _ranges;
    private readonly IReadOnlyList<IDisposable> _images;
    private readonly Func<long> _bytesRead;
    private readonly string _subject;
    private readonly ILogger _logger;
    private bool _ended;
    private int _disposed;

    internal MetadataStream(string subject, long capacityBytes, MetadataMethod method, IEnumerable<BlockRange> ranges,
        Func<long> bytesRead, IReadOnlyList<IDisposable> images, ILogger logger)
    {
        _subject = subject;
        CapacityBytes = capacityBytes;
        Method = method;
        _ranges = ranges.GetEnumerator();
        _bytesRead = bytesRead;
        _images = images;
        _logger = logger;
    }

    /// <summary>The size of the (target) snapshot, which every range lies within.</summary>
    public long CapacityBytes { get; }

    public MetadataMethod Method { get; }

    /// <summary>Bytes of image data read so far (0 unless <see cref="Method"/> is <see cref="MetadataMethod.Contents"/>).</summary>
    public long BytesRead => _bytesRead();

    /// <summary>Ranges handed out so far.</summary>
    public long RangesServed { get; private set; }

    /// <summary>
    /// Up to <paramref name="max"/> more ranges; empty once there are no more. Runs on a thread of its own: reading
    /// extent maps, and on copies data, blocks.
    /// </summary>
    public Task<IReadOnlyList<BlockRange>> NextAsync(int max, CancellationToken cancellationToken) =>
        Blocking.RunAsync(() => Next(max), cancellationToken);

    /// <summary>Up to <paramref name="max"/> more ranges, on the caller's thread; empty once there are no more.</summary>
    public IReadOnlyList<BlockRange> Next(int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var page = new List<BlockRange>(Math.Min(max, 1024));
        while (!_ended && page.Count < max)
        {
            if (_ranges.MoveNext())
            {
                page.Add(_ranges.Current);
            }
            else
            {
                _ended = true;
            }
        }
        RangesServed += page.Count;
        return page;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _ranges.Dispose();
        foreach (var image in _images)
        {
            image.Dispose();
        }
        PoolLog.MetadataServed(_logger, _subject, Method, RangesServed, BytesRead, _ended);
    }
}
