using Loopvol.Core.Errors;
using Loopvol.Core.Native;
using Microsoft.Extensions.Logging;

namespace Loopvol.Hosting;

/// <summary>
/// Room kept for the journal: a file of allocated blocks in the data directory (<c>space-reserve</c>), released when
/// the file system is about to fill up and made again once there is ample room. SQLite needs a few new blocks to
/// open the journal (its <c>-shm</c> and <c>-wal</c> files) and to grow its log, and the pool's images usually share
/// the data directory's file system; with the reserve released, a driver on a full pool still starts, and deletes,
/// unpublish and unstage, which need no space but the journal's, still work. Adjusted at start, before the journal
/// opens, then every few seconds; it never throws.
/// </summary>
public sealed partial class SpaceReserve : IDisposable
{
    public const string FileName = "space-reserve";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly string _directory;
    private readonly long _bytes;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Timer? _timer;
    private bool _unsupported;

    private SpaceReserve(string directory, long bytes, ILogger logger)
    {
        _directory = directory;
        _bytes = bytes;
        _logger = logger;
    }

    public string Path => System.IO.Path.Combine(_directory, FileName);

    /// <summary>Adjusts the reserve of <paramref name="bytes"/> in <paramref name="directory"/> now, then periodically.</summary>
    public static SpaceReserve Start(string directory, long bytes, ILogger logger)
    {
        var reserve = new SpaceReserve(directory, bytes, logger);
        reserve.Adjust();
        reserve._timer = new Timer(_ => reserve.Adjust(), null, Interval, Interval);
        return reserve;
    }

    /// <summary>
    /// Releases the reserve when less than its size is free, and makes it when there is none and four times its size
    /// is free (so it does not come and go with every write). Repeated: no change while the free space stays on one
    /// side. Failures are logged, never thrown: the reserve only helps.
    /// </summary>
    public void Adjust()
    {
        lock (_lock)
        {
            try
            {
                var available = FileSystemStats.Of(_directory).AvailableBytes;
                var held = File.Exists(Path);
                if (held && available < _bytes)
                {
                    File.Delete(Path);
                    SyncFileSystem(); // XFS frees an unlinked file's blocks in the background; this makes them free now.
                    Released(_logger, _bytes, _directory, available);
                }
                else if (!held && !_unsupported && _bytes > 0 && available >= 4 * _bytes)
                {
                    Make();
                    Made(_logger, _bytes, _directory);
                }
            }
            catch (CommandFailedException e) when (e.ExitCode == Errno.EOPNOTSUPP)
            {
                _unsupported = true; // Said once: the file system cannot allocate blocks ahead.
                NotAdjusted(_logger, _directory, e.Message);
            }
            catch (Exception e)
            {
                // A timer callback must not throw: that would end the process.
                NotAdjusted(_logger, _directory, e.Message);
            }
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
    }

    /// <summary>Allocates the blocks (fallocate, not a sparse file) under a temporary name, then renames it into place.</summary>
    private void Make()
    {
        var temporary = Path + ".tmp";
        try
        {
            using (var handle = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write))
            {
                if (Libc.Fallocate(handle, 0, 0, _bytes) != 0)
                {
                    throw Errno.Failure("fallocate", temporary, Errno.Last);
                }
                RandomAccess.FlushToDisk(handle);
            }
            File.Move(temporary, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or LoopvolException)
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>syncfs(2) on the data directory's file system.</summary>
    private void SyncFileSystem()
    {
        // .NET opens no directory as a file, so this is open(2) itself.
        var fd = Libc.Open(_directory, Libc.ORdonly);
        if (fd < 0)
        {
            throw Errno.Failure("open", _directory, Errno.Last);
        }
        try
        {
            if (Libc.Syncfs(fd) != 0)
            {
                throw Errno.Failure("syncfs", _directory, Errno.Last);
            }
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    [LoggerMessage(10, LogLevel.Warning,
        "the file system of {Directory} is full ({Available} bytes free): released the journal's {Bytes}-byte reserve so " +
        "that deletes, unpublish and unstage keep working; creates are refused until space is freed")]
    private static partial void Released(ILogger logger, long bytes, string directory, long available);

    [LoggerMessage(11, LogLevel.Information, "kept a {Bytes}-byte reserve for the journal in {Directory}")]
    private static partial void Made(ILogger logger, long bytes, string directory);

    [LoggerMessage(12, LogLevel.Warning, "could not adjust the journal's space reserve in {Directory}: {Reason}")]
    private static partial void NotAdjusted(ILogger logger, string directory, string reason);
}
