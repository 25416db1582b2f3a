using System.CommandLine;
using System.Text.Json;
using Grpc.Core;
using Loopvol.Csi.Transport;

namespace Loopvol.Bench.Csi;

/// <summary>
/// <c>loopvol-bench csi</c>: runs named workloads against one CSI endpoint, or two side by side, and reports
/// throughput and p50/p90/p99 latency as a table and, with --json, as JSON; with an endpoint's metrics URL, also the
/// fsyncs its driver counted per call, and with --fsync-probe the fsync latency of its file system. A workload the
/// endpoint's capabilities do not cover is reported as skipped. Everything a workload made is deleted when it ends,
/// Ctrl-C included.
/// </summary>
internal static class CsiBenchmark
{
    public static Command Command()
    {
        var endpoint = new Option<string>("--endpoint") { Description = "The CSI endpoint: unix:///path or tcp://host:port", Required = true };
        var compare = new Option<string?>("--compare-endpoint") { Description = "A second endpoint, run the same way" };
        var workloads = new Option<string>("--workloads") { Description = "Comma-separated workloads", DefaultValueFactory = _ => string.Join(',', Workloads.All) };
        var json = new Option<string?>("--json") { Description = "Also write the results to this JSON file" };
        var size = new Option<int>("--size-gib") { Description = "snapshot-large, snapshot-delta: volume size", DefaultValueFactory = _ => 10 };
        var fill = new Option<int>("--fill-mib") { Description = "snapshot-large, snapshot-delta: data written", DefaultValueFactory = _ => 1024 };
        var pairs = new Option<int>("--pairs") { Description = "create-delete: pairs per concurrency level", DefaultValueFactory = _ => 200 };
        var count = new Option<int>("--list-volumes") { Description = "list: volumes to create and page through", DefaultValueFactory = _ => 10_000 };
        var cycles = new Option<int>("--cycles") { Description = "stage-publish: cycles", DefaultValueFactory = _ => 50 };
        var metrics = Url("--metrics", "--endpoint's Prometheus metrics URL (loopvol --metrics-address): fsyncs per call");
        var compareMetrics = Url("--compare-metrics", "--compare-endpoint's metrics URL, as --metrics");
        var probe = Probe("--fsync-probe", "A directory on --endpoint's pool file system: time 4 KiB write+fsync there");
        var compareProbe = Probe("--compare-fsync-probe", "A directory on --compare-endpoint's pool file system, as --fsync-probe");
        var command = new Command("csi", "Workloads against any CSI endpoint, optionally two side by side")
        {
            endpoint, compare, workloads, json, size, fill, pairs, count, cycles, metrics, compareMetrics, probe,
            compareProbe,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(compare) is null && (r.GetValue(compareMetrics) is not null || r.GetValue(compareProbe) is not null))
            {
                r.AddError("--compare-metrics and --compare-fsync-probe need --compare-endpoint");
            }
        });
        command.SetAction(async (r, ct) =>
        {
            var options = new CsiBenchOptions
            {
                SizeBytes = (long)r.GetValue(size) << 30,
                FillBytes = (long)r.GetValue(fill) << 20,
                Pairs = r.GetValue(pairs),
                ListVolumes = r.GetValue(count),
                Cycles = r.GetValue(cycles),
            };
            var endpoints = new List<BenchEndpoint>
            {
                new(GrpcEndpoint.Parse(r.GetValue(endpoint)!), r.GetValue(metrics), r.GetValue(probe)),
            };
            if (r.GetValue(compare) is { } second)
            {
                endpoints.Add(new(GrpcEndpoint.Parse(second), r.GetValue(compareMetrics), r.GetValue(compareProbe)));
            }
            using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true; // Stop the workload, then clean up before exiting.
                interrupt.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                var results = await RunAsync(endpoints, r.GetValue(workloads)!.Split(','), options, interrupt.Token);
                Console.WriteLine(WorkloadResult.Table(results));
                if (r.GetValue(json) is { } file)
                {
                    await File.WriteAllTextAsync(file, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
                }
                return results.Any(x => x.Failed is not null) ? 1 : 0;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }

    /// <summary>Runs every workload on every endpoint in turn; a failed or interrupted workload still cleans up.</summary>
    public static Task<List<WorkloadResult>> RunAsync(IReadOnlyList<GrpcEndpoint> endpoints, IEnumerable<string> workloads,
        CsiBenchOptions options, CancellationToken ct) =>
        RunAsync(endpoints.Select(e => (BenchEndpoint)e).ToList(), workloads, options, ct);

    /// <summary>
    /// Runs every workload on every endpoint in turn; a failed or interrupted workload still cleans up. An endpoint
    /// with an fsync probe gets an <see cref="FsyncProbe.Workload"/> line first, measured just before its workloads.
    /// </summary>
    public static async Task<List<WorkloadResult>> RunAsync(IReadOnlyList<BenchEndpoint> endpoints,
        IEnumerable<string> workloads, CsiBenchOptions options, CancellationToken ct)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        var results = new List<WorkloadResult>();
        try
        {
            foreach (var (endpoint, metrics, probe) in endpoints)
            {
                using var target = await CsiTarget.ConnectAsync(endpoint, ct, metrics);
                if (probe is not null)
                {
                    results.Add(await ProbeAsync(target, probe, options, ct));
                }
                foreach (var workload in workloads.Select(w => w.Trim()).Where(w => w.Length > 0))
                {
                    if (Workloads.Unsupported(workload, target) is { } why)
                    {
                        results.Add(new WorkloadResult(workload, endpoint.ToString()) { Skipped = why });
                        continue;
                    }
                    var result = new WorkloadResult(workload, endpoint.ToString());
                    results.Add(result);
                    var cleanup = new Cleanup(options.Made);
                    try
                    {
                        await Workloads.RunAsync(workload, target, options, result, cleanup, ct);
                    }
                    catch (Exception e) when (e is RpcException or IOException or OperationCanceledException
                                                   or HttpRequestException or InvalidDataException)
                    {
                        result.Failed = ct.IsCancellationRequested ? "interrupted" : e.Message;
                    }
                    finally
                    {
                        result.CleanupFailures.AddRange(await cleanup.RunAsync());
                    }
                    if (ct.IsCancellationRequested)
                    {
                        return results;
                    }
                }
            }
            return results;
        }
        finally
        {
            if (Directory.Exists(options.WorkDirectory) && !Directory.EnumerateFileSystemEntries(options.WorkDirectory).Any())
            {
                Directory.Delete(options.WorkDirectory);
            }
        }
    }

    /// <summary>Measures the fsync latency in <paramref name="directory"/> and keeps its p50 for the ratios.</summary>
    private static async Task<WorkloadResult> ProbeAsync(CsiTarget target, string directory, CsiBenchOptions options,
        CancellationToken ct)
    {
        var result = new WorkloadResult(FsyncProbe.Workload, target.Endpoint.ToString());
        try
        {
            var latency = await FsyncProbe.MeasureAsync(directory, options.FsyncSamples, ct);
            result.Measurements.Add(latency);
            target.FsyncP50Ms = latency.P50Ms;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            result.Failed = ct.IsCancellationRequested ? "interrupted" : e.Message;
        }
        return result;
    }

    private static Option<Uri?> Url(string name, string description)
    {
        var option = new Option<Uri?>(name)
        {
            Description = description,
            CustomParser = r => Uri.TryCreate(r.Tokens[0].Value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : null,
        };
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.GetValueOrDefault<Uri?>() is null)
            {
                r.AddError($"{name} '{r.Tokens[0].Value}' is not an http:// URL");
            }
        });
        return option;
    }

    private static Option<string?> Probe(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } dir && !Directory.Exists(dir))
            {
                r.AddError($"{name} '{dir}' is not a directory");
            }
        });
        return option;
    }
}
