using System.CommandLine;
using System.Text.Json;
using Grpc.Core;
using Loopvol.Csi.Transport;

namespace Loopvol.Bench.Csi;

/// <summary>
/// <c>loopvol-bench csi</c>: runs named workloads against one CSI endpoint, or two side by side, and reports
/// throughput and p50/p90/p99 latency as a table and, with --json, as JSON. A workload the endpoint's capabilities do
/// not cover is reported as skipped. Everything a workload made is deleted when it ends, Ctrl-C included.
/// </summary>
internal static class CsiBenchmark
{
    public static Command Command()
    {
        var endpoint = new Option<string>("--endpoint") { Description = "The CSI endpoint: unix:///path or tcp://host:port", Required = true };
        var compare = new Option<string?>("--compare-endpoint") { Description = "A second endpoint, run the same way" };
        var workloads = new Option<string>("--workloads") { Description = "Comma-separated workloads", DefaultValueFactory = _ => string.Join(',', Workloads.All) };
        var json = new Option<string?>("--json") { Description = "Also write the results to this JSON file" };
        var size = new Option<int>("--size-gib") { Description = "snapshot-large: volume size", DefaultValueFactory = _ => 10 };
        var fill = new Option<int>("--fill-mib") { Description = "snapshot-large: data written", DefaultValueFactory = _ => 1024 };
        var pairs = new Option<int>("--pairs") { Description = "create-delete: pairs per concurrency level", DefaultValueFactory = _ => 200 };
        var count = new Option<int>("--list-volumes") { Description = "list: volumes to create and page through", DefaultValueFactory = _ => 10_000 };
        var cycles = new Option<int>("--cycles") { Description = "stage-publish: cycles", DefaultValueFactory = _ => 50 };
        var command = new Command("csi", "Workloads against any CSI endpoint, optionally two side by side")
        {
            endpoint, compare, workloads, json, size, fill, pairs, count, cycles,
        };
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
            var endpoints = new[] { r.GetValue(endpoint)!, r.GetValue(compare) }.OfType<string>().Select(GrpcEndpoint.Parse).ToList();
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
    public static async Task<List<WorkloadResult>> RunAsync(IReadOnlyList<GrpcEndpoint> endpoints, IEnumerable<string> workloads,
        CsiBenchOptions options, CancellationToken ct)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        var results = new List<WorkloadResult>();
        try
        {
            foreach (var endpoint in endpoints)
            {
                using var target = await CsiTarget.ConnectAsync(endpoint, ct);
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
                    catch (Exception e) when (e is RpcException or IOException or OperationCanceledException)
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
}
