using Loopvol.Core.Concurrency;
using Loopvol.Core.Errors;
using Loopvol.Core.Host;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.Pool.Model;

namespace Loopvol.Pool;

/// <summary>Volumes: create (empty, or a copy of a snapshot or volume), delete, expand, look up, list.</summary>
public sealed partial class StoragePool
{
    /// <summary>
    /// Creates a volume, or returns the one this name already made with the same arguments. The same name with
    /// other arguments is <see cref="AlreadyExistsException"/>; a missing source <see cref="NotFoundException"/>.
    /// Retried after a crash at any step: finishes the same volume, or (if it never got an image) starts over.
    /// </summary>
    public async Task<VolumeInfo> CreateVolumeAsync(VolumeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var keys = new List<string> { $"volume-name:{request.Name}" };
        if (request.Source is { } source)
        {
            keys.Add(source.Id.ToString());
        }
        using var _ = journal.Locks.Acquire([.. keys]);
        cancellationToken.ThrowIfCancellationRequested();
        var arguments = new DefiningArguments
        {
            RequiredBytes = request.RequiredBytes,
            LimitBytes = request.LimitBytes,
            Parameters = request.Parameters,
            ContentSource = request.Source?.Id,
            Accessibility = request.Accessibility,
            Capabilities = request.Capabilities,
        };
        EnsureRecordFits(ObjectKind.Volume, request.Name, arguments);
        if (await ResumeAsync(journal.CheckAsync(ObjectKind.Volume, request.Name, arguments, r => images.Exists(r.BackendName)),
                "volume", request.Name).ConfigureAwait(false) is { } earlier)
        {
            return Info(earlier);
        }
        var sourceBytes = request.Source is { } s ? await SourceSizeAsync(s).ConfigureAwait(false) : (long?)null;
        var size = DecideSize(request.RequiredBytes, request.LimitBytes, sourceBytes, request.MinimumBytes);
        if (request.Source is not { } from)
        {
            // Nothing of a lost reservation reaches a finished name before MarkCreated, which is durable: its sync
            // can wait for that one (docs/durability.md).
            var empty = await AdmitAsync(ObjectKind.Volume, request.Name, arguments, size, null, Loopvol.Journal.Durability.Deferred)
                .ConfigureAwait(false);
            return Info(await BuildEmptyAsync(empty, size).ConfigureAwait(false));
        }
        var reservation = await AdmitAsync(ObjectKind.Volume, request.Name, arguments, size, from.Id.ToString())
            .ConfigureAwait(false);
        return Info(await BuildAsync("create-volume", reservation, size, () => Blocking.RunAsync(() =>
            images.Copy(from.Id.ToString(), reservation.BackendName, size, readOnly: false, Portable(reservation),
                cancellationToken), cancellationToken)).ConfigureAwait(false));
    }

    /// <summary>
    /// Deletes a volume: marks the record (which frees its name), unlinks the image, and leaves the record to the
    /// sweeper, which removes it once the unlink is on disk. An unknown ID is success; so is a volume being deleted,
    /// whose delete is finished. A volume still attached to a loop device, or staged on this node, is
    /// <see cref="PreconditionFailedException"/>. Its snapshots are separate images and stay. Retried after a crash at
    /// any step: finishes the delete (and start-up finishes every delete a crash left).
    /// </summary>
    public async Task DeleteVolumeAsync(ObjectId id, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(id.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        if (journal.Get(id) is not { } record)
        {
            return;
        }
        var path = images.Layout.ImagePath(record.BackendName);
        if (LoopBackingFiles.Holding(path) is [var device, ..])
        {
            throw new PreconditionFailedException($"volume {id} is attached to {device}; unstage it first");
        }
        if (journal.GetNodeVolume(id.ToString()) is { } node)
        {
            throw new PreconditionFailedException($"volume {id} is {node.State} on this node; unstage it first");
        }
        if (journal.ControllerPublications(id.ToString()) is [var published, ..])
        {
            throw new PreconditionFailedException($"volume {id} is published to node {published}; unpublish it first");
        }
        await journal.MarkDeletingAsync(id).ConfigureAwait(false);
        Faults.Reached("delete-volume.marked");
        images.Delete(record.BackendName);
        Faults.Reached("delete-volume.image-deleted");
        Forget(id);
    }

    /// <summary>
    /// Grows a volume to at least <paramref name="requiredBytes"/> (never shrinks, never less than asked); returns
    /// the new size. The image grows first and the journal records the size after, so a crash or failure between
    /// the two leaves an image larger than its record, which the retry records; no retry answers success for an
    /// image that did not grow (one that an older driver recorded ahead of its image is grown now). Repeated:
    /// returns the size it already has. Unknown: <see cref="NotFoundException"/>. A size a volume cannot have, or
    /// above <paramref name="limitBytes"/>: <see cref="OutOfRangeException"/>; more than the pool has:
    /// <see cref="ResourceExhaustedException"/>. Fault point: <c>expand-volume.grown</c>.
    /// </summary>
    public async Task<long> ExpandVolumeAsync(ObjectId id, long requiredBytes, long limitBytes, CancellationToken cancellationToken)
    {
        CheckRange(requiredBytes, limitBytes);
        if (limitBytes > 0 && requiredBytes > limitBytes)
        {
            throw new OutOfRangeException(
                $"capacity_range.required_bytes {requiredBytes} is larger than limit_bytes {limitBytes}");
        }
        using var _ = journal.Locks.Acquire(id.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        var record = await EnsureDurableAsync(CreatedVolume(id)).ConfigureAwait(false);
        var current = record.SizeBytes ?? 0;
        var size = RoundUp(requiredBytes);
        if (size <= current)
        {
            if (limitBytes > 0 && current > limitBytes)
            {
                throw new OutOfRangeException(
                    $"volume {id} is already {current} bytes, more than capacity_range.limit_bytes {limitBytes}; " +
                    "volumes never shrink");
            }
            await Blocking.RunAsync(() => images.Grow(record.BackendName, current), cancellationToken).ConfigureAwait(false);
            await KeepThickAsync(record, cancellationToken).ConfigureAwait(false);
            return current;
        }
        if (limitBytes > 0 && size > limitBytes)
        {
            throw new OutOfRangeException($"no size of whole {PoolOptions.BlockSize}-byte blocks lies in the capacity " +
                                          $"range [{requiredBytes}, {limitBytes}]");
        }
        var thick = journal.ProvisioningOf(id) == Provisioning.Thick;
        if (thick)
        {
            CheckRoomToReserve(record, size);
        }
        var admission = (false, id.Uuid.ToString("D"));
        Hold(admission, size, size - current, $"grow {id} by");
        try
        {
            await Blocking.RunAsync(() => images.Grow(record.BackendName, size), cancellationToken).ConfigureAwait(false);
            Faults.Reached("expand-volume.grown");
            await journal.UpdateSizeAsync(id, size).ConfigureAwait(false);
        }
        finally
        {
            Release(admission);
        }
        if (thick)
        {
            await KeepThickAsync(record, cancellationToken).ConfigureAwait(false);
        }
        return size;
    }

    public VolumeInfo? GetVolume(ObjectId id) =>
        journal.Get(id) is { State: ReservationState.Created } record ? Info(record) : null;

    /// <summary>
    /// A created volume with its condition and, when <paramref name="publishedNodes"/> (deployments with an
    /// attacher), the nodes it is published to; null when there is none.
    /// </summary>
    public VolumeStatus? GetVolumeStatus(ObjectId id, bool publishedNodes) =>
        journal.Get(id) is { State: ReservationState.Created } record ? StatusOf(record, publishedNodes) : null;

    /// <summary>A page of volumes, as <see cref="GetVolumeStatus"/> reports each.</summary>
    public Page<VolumeStatus> ListVolumes(string? startingToken, int maxEntries, bool publishedNodes)
    {
        var page = journal.List(ObjectKind.Volume, startingToken, maxEntries);
        return new Page<VolumeStatus>([.. page.Items.Select(r => StatusOf(r, publishedNodes))], page.NextToken);
    }

    /// <summary>Publications are one more query per volume: only made when they are reported.</summary>
    private VolumeStatus StatusOf(Reservation record, bool publishedNodes) =>
        new(Info(record), ConditionOf(record), publishedNodes ? journal.ControllerPublications(record.Id.ToString()) : []);

    /// <summary>Abnormal when the image is missing or its size disagrees with the record.</summary>
    internal Condition ConditionOf(Reservation record)
    {
        var actual = images.SizeOf(record.BackendName);
        if (actual is null)
        {
            return new Condition(true, $"the image of {record.Id} is missing from the pool");
        }
        return actual != record.SizeBytes
            ? new Condition(true, $"the image of {record.Id} is {actual} bytes, the journal says {record.SizeBytes}")
            : Condition.Healthy;
    }

    private static VolumeInfo Info(Reservation r) => new(r.Id, r.SizeBytes ?? 0,
        r.Arguments.ContentSource is { } source ? new ContentSource(source) : null, r.Arguments.Parameters,
        r.Arguments.Capabilities, r.CreatedAt);

    private Reservation CreatedVolume(ObjectId id) =>
        journal.Get(id) is { State: ReservationState.Created } record
            ? record
            : throw new NotFoundException($"volume {id} does not exist");

    /// <summary>
    /// The size of a content source, made durable first (docs/durability.md): the copy will be on disk, so the image
    /// it was copied from must be too.
    /// </summary>
    private async Task<long> SourceSizeAsync(ContentSource source)
    {
        var record = journal.Get(source.Id);
        if (record is not { State: ReservationState.Created })
        {
            throw new NotFoundException($"the content source {source.Id} does not exist");
        }
        record = await EnsureDurableAsync(record).ConfigureAwait(false);
        return record.SizeBytes ?? images.SizeOf(record.BackendName) ??
            throw new NotFoundException($"the image of content source {source.Id} is missing");
    }
}
