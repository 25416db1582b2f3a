using System.Globalization;
using System.Text.Json.Serialization;

namespace Loopvol.Bench.Csi;

/// <summary>
/// One measured line: how many calls, their rate and latency percentiles, and, when the endpoint has a metrics URL, the
/// fsyncs the driver counted per call.
/// </summary>
internal sealed record Measurement(string Label, int Calls, double RatePerSecond, double P50Ms, double P90Ms, double P99Ms)
{
    /// <summary>The driver's fsync counter moved by this much per call during the measurement; null without metrics.</summary>
    public double? FsyncsPerCall { get; init; }

    /// <summary>The p50 latency as a multiple of the endpoint's measured fsync p50 (--fsync-probe); null when not asked.</summary>
    public double? P50InFsyncs { get; init; }

    /// <summary>
    /// The line of <paramref name="latencies"/> over <paramref name="elapsed"/>; <paramref name="fsyncs"/> is how far
    /// the driver's fsync counter moved meanwhile (null without metrics).
    /// </summary>
    public static Measurement Of(string label, Latencies latencies, TimeSpan elapsed, double? fsyncs = null) =>
        new(label, latencies.Count, latencies.Count / Math.Max(elapsed.TotalSeconds, 1e-9), latencies.Percentile(50),
            latencies.Percentile(90), latencies.Percentile(99))
        {
            FsyncsPerCall = fsyncs / Math.Max(latencies.Count, 1),
        };
}

/// <summary>What one workload did on one endpoint: measurements and notes, or why it was skipped.</summary>
internal sealed record WorkloadResult(string Workload, string Endpoint)
{
    public List<Measurement> Measurements { get; } = [];

    public List<string> Notes { get; } = [];

    /// <summary>Undo steps that failed after the workload: each leaves something behind on the endpoint.</summary>
    public List<string> CleanupFailures { get; } = [];

    public string? Skipped { get; init; }

    public string? Failed { get; set; }

    [JsonIgnore]
    public bool Ran => Skipped is null && Failed is null;

    public static string Table(IEnumerable<WorkloadResult> results)
    {
        var lines = new List<string>
        {
            "| endpoint | workload | measurement | calls | rate /s | p50 ms | p90 ms | p99 ms | fsyncs/call |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
        };
        var notes = new List<string>();
        foreach (var r in results)
        {
            if (!r.Ran)
            {
                lines.Add($"| {r.Endpoint} | {r.Workload} | {(r.Skipped is { } s ? "skipped: " + s : "FAILED: " + r.Failed)} | | | | | | |");
            }
            foreach (var m in r.Measurements)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Endpoint} | {r.Workload} | {m.Label} | {m.Calls} | {m.RatePerSecond:F1} | {m.P50Ms:F2} | {m.P90Ms:F2} | {m.P99Ms:F2} | {Fsyncs(m.FsyncsPerCall)} |"));
                if (m.P50InFsyncs is { } ratio)
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"- {r.Endpoint} {r.Workload}: {m.Label}: p50 {m.P50Ms:F2} ms is {ratio:F1} fsync p50s"));
                }
            }
            notes.AddRange(r.Notes.Select(n => $"- {r.Endpoint} {r.Workload}: {n}"));
            notes.AddRange(r.CleanupFailures.Select(f => $"- {r.Endpoint} {r.Workload}: cleanup failed: {f}"));
        }
        return string.Join('\n', lines.Concat(notes.Count > 0 ? [""] : []).Concat(notes));
    }

    /// <summary>A dash when the endpoint has no metrics URL (csi-driver-host-path has none and syncs nothing).</summary>
    private static string Fsyncs(double? perCall) =>
        perCall is { } value ? value.ToString("F2", CultureInfo.InvariantCulture) : "\u2013";
}
