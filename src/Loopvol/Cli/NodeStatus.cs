using System.Text.Json.Serialization;

namespace Loopvol.Cli;

/// <summary>
/// What <c>loopvol status</c> reports of one node. <c>--json</c> writes it as it is (<see cref="NodeStatusJson"/>):
/// the property names, in lower_snake_case, are the keys scripts read, so renaming one breaks them.
/// </summary>
internal sealed record NodeStatus(
    string Journal,
    PoolStatus Pool,
    RecordCounts Records,
    IReadOnlyList<StagedVolume> StagedVolumes,
    IReadOnlyList<OperatorItem> NeedsOperator);

/// <summary>
/// The pool directory and its file system (statvfs), counted as <c>df</c> counts them: <see cref="UsedBytes"/> is the
/// size less every free block, <see cref="FreeBytes"/> what may still be written (blocks reserved for root left out,
/// as the driver's own admission leaves them out), and <see cref="UsedRatio"/> used over used and free (df's Use%).
/// Provisioned is what the
/// journal promised to volumes (the sizes of created ones, the requested sizes of reserved ones); the images are
/// sparse, so it may exceed the size. <see cref="CopyMode"/> is <c>reflink</c>, <c>copy</c>, or null when the file
/// system does not say (<see cref="Pool.CopyModes"/>).
/// </summary>
internal sealed record PoolStatus(
    string Directory,
    long SizeBytes,
    long UsedBytes,
    long FreeBytes,
    double UsedRatio,
    long ProvisionedBytes,
    double ProvisionedRatio,
    string? CopyMode);

/// <summary>Journal records by kind, each by state.</summary>
internal sealed record RecordCounts(StateCounts Volume, StateCounts Snapshot, StateCounts Group);

internal sealed record StateCounts(long Reserved, long Created, long Deleting, long Faulty);

/// <summary>A volume the node has a record of: <c>attached</c>, <c>mounted</c> (staged) or <c>in_use</c> (published).</summary>
internal sealed record StagedVolume(
    string VolumeId,
    string State,
    string? StagingPath,
    string? LoopDevice,
    IReadOnlyList<PublishedAt> Publications);

internal sealed record PublishedAt(string TargetPath, bool ReadOnly, string AccessType);

/// <summary>
/// One thing left for an operator: a finding of the journal check, its kind spelled as the metrics spell it
/// (<c>faulty_record</c>, <c>orphan_backend</c>...); <see cref="Repairable"/> when <c>journal gc</c> repairs it.
/// </summary>
internal sealed record OperatorItem(string Kind, string Subject, string Detail, bool Repairable);

/// <summary>The JSON form, generated at build time: the executable is native AOT, so no reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(NodeStatus))]
internal sealed partial class NodeStatusJson : JsonSerializerContext;
