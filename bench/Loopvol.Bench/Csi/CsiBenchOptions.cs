namespace Loopvol.Bench.Csi;

/// <summary>How big each workload is; the defaults are the full run, tests use small ones.</summary>
internal sealed record CsiBenchOptions
{
    public int Pairs { get; init; } = 200;

    public int StormRounds { get; init; } = 5;

    public long SizeBytes { get; init; } = 10L << 30;

    public long FillBytes { get; init; } = 1L << 30;

    public int SnapshotRepeats { get; init; } = 5;

    /// <summary>snapshot-delta: the data rewritten between its two snapshots, in 4 KiB blocks.</summary>
    public long ChangedBytes { get; init; } = 64L << 20;

    public int Cycles { get; init; } = 50;

    public IReadOnlyList<int> GroupSizes { get; init; } = [1, 4, 16];

    public int GroupRepeats { get; init; } = 3;

    public int ListVolumes { get; init; } = 10_000;

    public int PageSize { get; init; } = 100;

    public long SmallVolumeBytes { get; init; } = 64L << 20;

    /// <summary>The size of each of the list workload's many volumes (sparse, so only metadata is written).</summary>
    public long ListVolumeBytes { get; init; } = 4L << 20;

    /// <summary>Syncs timed by --fsync-probe.</summary>
    public int FsyncSamples { get; init; } = 200;

    /// <summary>Where staging and target paths are made (the endpoint must be on this machine for node workloads).</summary>
    public string WorkDirectory { get; init; } = Path.Combine(Path.GetTempPath(), $"loopvol-bench-{Environment.ProcessId}");

    /// <summary>Told the ID of every volume, snapshot or group a workload makes, once the endpoint acknowledges it.</summary>
    public Action<string>? Made { get; init; }
}
