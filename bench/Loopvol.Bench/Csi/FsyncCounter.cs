using System.Globalization;

namespace Loopvol.Bench.Csi;

/// <summary>
/// Reads a driver's count of fsyncs from its Prometheus metrics endpoint (loopvol's <c>--metrics-address</c>): the
/// <see cref="Metric"/> series summed over their labels. The benchmark reads it before and after a measurement; the
/// difference over the calls made is the measurement's fsyncs per call.
/// </summary>
internal sealed class FsyncCounter(Uri url) : IDisposable
{
    /// <summary>The Prometheus name of loopvol's <c>loopvol.fsyncs</c> counter.</summary>
    public const string Metric = "loopvol_fsyncs_total";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public Uri Url { get; } = url;

    /// <summary>
    /// The fsyncs counted so far, all labels together. A URL that does not answer is an
    /// <see cref="HttpRequestException"/>; one that exports no <see cref="Metric"/> an <see cref="InvalidDataException"/>.
    /// </summary>
    public async Task<double> ReadAsync(CancellationToken ct)
    {
        var text = await _http.GetStringAsync(Url, ct).ConfigureAwait(false);
        return Sum(text) ?? throw new InvalidDataException($"{Url} exports no {Metric}: is it loopvol's --metrics-address?");
    }

    /// <summary>The sum of every <see cref="Metric"/> sample in a Prometheus text exposition; null when there is none.</summary>
    public static double? Sum(string exposition)
    {
        ArgumentNullException.ThrowIfNull(exposition);
        double? sum = null;
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(Metric, StringComparison.Ordinal) || line.Length == Metric.Length ||
                line[Metric.Length] is not ('{' or ' '))
            {
                continue;
            }
            // name{labels} value [timestamp]: the value follows the labels (whose values may hold spaces).
            var rest = line[Metric.Length] == '{' ? line[(line.LastIndexOf('}') + 1)..] : line[Metric.Length..];
            var fields = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                sum = (sum ?? 0) + value;
            }
        }
        return sum;
    }

    public void Dispose() => _http.Dispose();
}
