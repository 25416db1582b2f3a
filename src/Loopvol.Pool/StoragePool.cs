using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Core.Native;
using Loopvol.Journal.Model;

namespace Loopvol.Pool;

/// <summary>
/// Volumes and snapshots: the journal says what exists and who asked for it, the image store holds the data.
/// Every create reserves its name in the journal before any file exists, and every delete marks the record before
/// the file goes, so a crash at any point leaves something a retry (or gc) finishes. Operations on one name or one
/// ID run one at a time; a second one meanwhile is refused as busy.
/// </summary>
public sealed partial class StoragePool(Journal.Journal journal, ImageStore images, PoolOptions options)
{
    /// <summary>For tests only: the CSI layer asks the pool, never its journal.</summary>
    internal Journal.Journal Journal => journal;

    private readonly Lock _admission = new();

    /// <summary>
    /// Volumes being admitted (a new name, or an ID growing) and what each will provision in all. While here, each is
    /// counted from this alone and left out of the journal's total, so a write committing meanwhile is never counted
    /// twice (which refused creates spuriously near a full pool) nor missed.
    /// </summary>
    private readonly Dictionary<(bool IsName, string Key), long> _admitting = [];

    public ImageStore Images => images;

    public PoolOptions Options => options;

    private IFaultInjector Faults => options.Faults;

    /// <summary>
    /// Bytes a new volume may still take: what the over-commit limit leaves after the provisioned capacity, and no
    /// more than the file system's free space (less the reserve) allows at that ratio. The ratio is applied in
    /// floating point, which cannot overflow, and the answer never lets the provisioned total pass a long.
    /// </summary>
    public long AvailableBytes()
    {
        var (total, thick) = journal.ProvisionedBytes([], []);
        return AvailableBytes(total, thick);
    }

    /// <param name="provisioned">Every volume's size, thick ones included.</param>
    /// <param name="thick">The thick volumes' sizes: their blocks are reserved, so they are counted one to one
    /// against the file system, outside the over-commit.</param>
    private long AvailableBytes(long provisioned, long thick)
    {
        var fs = FileSystemStats.Of(images.Layout.Directory);
        var reserve = Math.Max(0, options.ReserveBytes);
        var limit = options.OvercommitRatio * Math.Max(0, fs.TotalBytes - reserve - thick);
        var free = options.OvercommitRatio * Math.Max(0, fs.AvailableBytes - reserve);
        var left = Math.Min(ToBytes(Math.Min(limit - (provisioned - thick), free)), long.MaxValue - provisioned);
        return RoundDown(left);
    }

    /// <summary>
    /// The size a request gets: the required size (or the default, or the source's), rounded up to a block.
    /// A size no whole number of blocks can represent, or outside the range, is <see cref="OutOfRangeException"/>.
    /// </summary>
    public long DecideSize(long requiredBytes, long limitBytes, long? sourceBytes, long minimumBytes = 0)
    {
        CheckRange(requiredBytes, limitBytes);
        if (minimumBytes > 0 && limitBytes > 0 && limitBytes < minimumBytes)
        {
            throw new OutOfRangeException(
                $"capacity_range.limit_bytes {limitBytes} is below {minimumBytes}, the least this file system needs");
        }
        if (limitBytes > 0 && requiredBytes > limitBytes)
        {
            throw new OutOfRangeException(
                $"capacity_range.required_bytes {requiredBytes} is larger than limit_bytes {limitBytes}");
        }
        var wanted = Math.Max(requiredBytes, sourceBytes ?? 0);
        if (wanted == 0)
        {
            wanted = limitBytes > 0 ? Math.Min(options.DefaultVolumeBytes, limitBytes) : options.DefaultVolumeBytes;
        }
        wanted = Math.Max(wanted, minimumBytes);
        var size = RoundUp(wanted);
        if (limitBytes > 0 && size > limitBytes)
        {
            throw new OutOfRangeException(sourceBytes > limitBytes
                ? $"the source is {sourceBytes} bytes, more than capacity_range.limit_bytes {limitBytes}"
                : $"no size of whole {PoolOptions.BlockSize}-byte blocks lies in the capacity range " +
                  $"[{requiredBytes}, {limitBytes}]");
        }
        return size;
    }

    /// <summary>Sizes every request shares: not negative, and required_bytes within what a volume can be.</summary>
    private static void CheckRange(long requiredBytes, long limitBytes)
    {
        if (requiredBytes < 0 || limitBytes < 0)
        {
            throw new InvalidArgumentException(requiredBytes < 0
                ? $"capacity_range.required_bytes {requiredBytes} must not be negative"
                : $"capacity_range.limit_bytes {limitBytes} must not be negative");
        }
        if (requiredBytes > PoolOptions.MaxVolumeBytes)
        {
            throw new OutOfRangeException(
                $"capacity_range.required_bytes {requiredBytes} is more than {PoolOptions.MaxVolumeBytes}, the largest " +
                $"volume size (whole {PoolOptions.BlockSize}-byte blocks in a 64-bit byte count)");
        }
    }

    /// <summary>
    /// Reserves a name after checking that its size fits, as one step among concurrent creates. A full pool file
    /// system (see <see cref="PoolOptions.FullBelowBytes"/>), or one without room for the data a sparse copy of
    /// <paramref name="copyOf"/> writes, is <see cref="ResourceExhaustedException"/> before anything is written.
    /// </summary>
    private async Task<Reservation> AdmitAsync(Core.Ids.ObjectKind kind, string name, DefiningArguments arguments,
        long sizeBytes, string? copyOf, Loopvol.Journal.Durability durability = Loopvol.Journal.Durability.Durable)
    {
        CheckRoom(kind == Core.Ids.ObjectKind.Snapshot ? "a snapshot" : "a volume", copyOf is null ? [] : [copyOf]);
        if (kind != Core.Ids.ObjectKind.Volume)
        {
            return await journal.ReserveAsync(kind, name, arguments, durability).ConfigureAwait(false);
        }
        var admission = (true, name);
        Hold(admission, sizeBytes, sizeBytes, "hold");
        try
        {
            return await journal.ReserveAsync(kind, name, arguments, durability).ConfigureAwait(false);
        }
        finally
        {
            Release(admission);
        }
    }

    /// <summary>
    /// Counts a volume being admitted against what is available until <see cref="Release"/>: concurrent admissions
    /// see each other while their journal writes are still queued. More than is available is
    /// <see cref="ResourceExhaustedException"/>.
    /// </summary>
    /// <param name="admission">The volume: its request name (a create) or its ID (a growth).</param>
    /// <param name="totalBytes">What it will provision in all once its write commits.</param>
    /// <param name="addedBytes">What that adds to what it provisions now.</param>
    /// <param name="what">For the error: what the pool cannot do.</param>
    private void Hold((bool IsName, string Key) admission, long totalBytes, long addedBytes, string what)
    {
        lock (_admission)
        {
            var names = _admitting.Keys.Where(k => k.IsName).Select(k => k.Key).ToList();
            var ids = _admitting.Keys.Where(k => !k.IsName).Select(k => k.Key).ToList();
            var (total, thick) = journal.ProvisionedBytes(names, ids);
            var available = AvailableBytes(total + _admitting.Values.Sum(), thick);
            if (addedBytes > available)
            {
                throw new ResourceExhaustedException(
                    $"the pool cannot {what} {addedBytes} more bytes: {Math.Max(0, available)} bytes are available " +
                    $"(over-commit ratio {options.OvercommitRatio}, reserve {options.ReserveBytes} bytes)");
            }
            _admitting.Add(admission, totalBytes);
        }
    }

    /// <summary>For tests: how many volumes are being admitted now.</summary>
    internal int Admitting
    {
        get
        {
            lock (_admission)
            {
                return _admitting.Count;
            }
        }
    }

    private void Release((bool IsName, string Key) admission)
    {
        lock (_admission)
        {
            _admitting.Remove(admission);
        }
    }

    /// <summary>
    /// The pool's file system must keep <see cref="PoolOptions.FullBelowBytes"/> free after the data that sparse
    /// copies of <paramref name="copiesOf"/> write (reflinks write none).
    /// </summary>
    private void CheckRoom(string what, IReadOnlyList<string> copiesOf)
    {
        var free = FileSystemStats.Of(images.Layout.Directory).AvailableBytes;
        var data = images.SupportsReflink == false ? copiesOf.Sum(images.DataBytes) : 0;
        if (free - data < options.FullBelowBytes)
        {
            var sources = string.Join(", ", copiesOf);
            throw new ResourceExhaustedException(data > 0
                ? $"the pool's file system has {free} bytes free: not enough for {what} copied from {sources} " +
                  $"({data} bytes of data) while keeping {options.FullBelowBytes} bytes free"
                : $"the pool's file system is full ({free} bytes free, under the {options.FullBelowBytes} bytes kept " +
                  "free): nothing can be created until space is freed");
        }
    }

    /// <summary>
    /// Continues what an earlier attempt of the same request left: the finished object, or, when its image was
    /// renamed into place just before a crash, the record finished now. Null when there is nothing to continue.
    /// </summary>
    private async Task<Reservation?> ResumeAsync(Task<CheckResult> checking, string what, string name)
    {
        switch (await checking.ConfigureAwait(false))
        {
            case CheckResult.Conflict conflict:
                throw new AlreadyExistsException(
                    $"{what} '{name}' already exists as {conflict.Reservation.Id} with {conflict.Difference}");
            case CheckResult.Found { Reservation.State: ReservationState.Created } found:
                return found.Reservation;
            case CheckResult.Found { Reservation.State: ReservationState.Reserved } found:
                return await journal.MarkCreatedAsync(found.Reservation.Id,
                    images.SizeOf(found.Reservation.BackendName)!.Value).ConfigureAwait(false);
            case CheckResult.Found found:
                throw new BusyException($"{what} '{name}' ({found.Reservation.Id}) is being deleted");
            default:
                return null;
        }
    }

    /// <summary>
    /// Makes the image of a fresh reservation and records it created; if making the image fails, the reservation
    /// is marked faulty (its name freed for a retry, its ID never reused). Fault points: <c>{what}.reserved</c> and
    /// <c>{what}.image-created</c>.
    /// </summary>
    private async Task<Reservation> BuildAsync(string what, Reservation reservation, long sizeBytes, Func<Task> makeImage)
    {
        Faults.Reached($"{what}.reserved");
        try
        {
            await makeImage().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not BusyException)
        {
            await AbandonAsync(reservation).ConfigureAwait(false);
            throw;
        }
        Faults.Reached($"{what}.image-created");
        return await journal.MarkCreatedAsync(reservation.Id, sizeBytes).ConfigureAwait(false);
    }

    /// <summary>
    /// Gives up a reservation whose image could not be made. When no image reached its name (a failed write leaves
    /// only its .incoming file, and that is removed) nothing was made, so the reservation is undone and leaves no
    /// record; otherwise it is marked faulty (its name freed, its record and image left for gc). Either way a retry
    /// starts afresh.
    /// </summary>
    private Task AbandonAsync(Reservation reservation) => images.Exists(reservation.BackendName)
        ? journal.MarkFaultyAsync(reservation.Id)
        : journal.RemoveAsync(reservation.Id);

    /// <summary>
    /// Records which Kubernetes objects <paramref name="id"/> was made for (the sidecars' metadata), for operators.
    /// Repeated: the latest names win. None: no change.
    /// </summary>
    public async Task RecordKubernetesNamesAsync(Core.Ids.ObjectId id, IReadOnlyDictionary<string, string> names)
    {
        if (names.Count == 0)
        {
            return;
        }
        await journal.SetKubernetesNamesAsync(id, names).ConfigureAwait(false);
        if (id.Kind != Core.Ids.ObjectKind.Group && journal.Get(id) is { State: ReservationState.Created } record)
        {
            // The image carries the names too, so journal rebuild recovers them.
            var path = images.Layout.ImagePath(record.BackendName);
            if (File.Exists(path) && ReadRecord(path) is { } carried &&
                !carried.Kubernetes.OrderBy(p => p.Key).SequenceEqual(names.OrderBy(p => p.Key)))
            {
                ImageRecords.Write(path, carried with { Kubernetes = names });
            }
        }
    }

    /// <summary>The record an image carries; null when it carries none or one this code cannot read (left as it is).</summary>
    private static PortableRecord? ReadRecord(string path)
    {
        try
        {
            return ImageRecords.Read(path);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Rounds up to a whole block; callers keep sizes within <see cref="PoolOptions.MaxVolumeBytes"/>.</summary>
    private static long RoundUp(long bytes) => bytes > PoolOptions.MaxVolumeBytes
        ? throw new OutOfRangeException($"{bytes} bytes is more than {PoolOptions.MaxVolumeBytes}, the largest volume size")
        : (bytes + PoolOptions.BlockSize - 1) / PoolOptions.BlockSize * PoolOptions.BlockSize;

    /// <summary>A byte count computed in floating point, as a long: never negative, never past <see cref="long.MaxValue"/>.</summary>
    private static long ToBytes(double bytes) =>
        double.IsNaN(bytes) || bytes <= 0 ? 0 : bytes >= long.MaxValue ? long.MaxValue : (long)bytes;

    private static long RoundDown(long bytes) => bytes / PoolOptions.BlockSize * PoolOptions.BlockSize;
}
