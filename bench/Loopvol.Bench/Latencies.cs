using System.Globalization;

namespace Loopvol.Bench;

/// <summary>Latency samples of one measured run, and their percentiles.</summary>
internal sealed class Latencies(int capacity)
{
    private readonly List<double> _ms = new(capacity);

    public int Count => _ms.Count;

    public void Add(TimeSpan elapsed) => _ms.Add(elapsed.TotalMilliseconds);

    /// <summary>The nearest-rank percentile, in milliseconds.</summary>
    public double Percentile(double p) => Percentile(_ms, p);

    /// <summary>The nearest-rank percentile of any samples (NaN when there are none).</summary>
    public static double Percentile(IEnumerable<double> samples, double p)
    {
        var sorted = samples.Order().ToList();
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public static string Ms(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}
