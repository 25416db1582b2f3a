using System.CommandLine;
using System.Text.Json;

namespace Loopvol.Bench.Startup;

/// <summary>
/// <c>loopvol-bench startup</c>: starts one or more driver executables N times each, interleaved so that they share
/// whatever else the machine is doing, and reports per driver the time from exec to the first answered
/// Identity.Probe, the idle resident set after it, and the time from SIGTERM to exit: median and spread.
/// </summary>
internal static class StartupBenchmark
{
    public static Command Command()
    {
        var drivers = new Option<string[]>("--driver")
        {
            Description = $"A driver to start, {StartupDriver.Syntax}; repeat for several. Placeholders, filled in afresh for " +
                          "each run: {socket} the Unix socket path to serve on, {dir} an empty scratch directory, {loopvol} " +
                          "this build's loopvol (as the command). Quote an argument with spaces with '...'. Default: " +
                          $"'{StartupDriver.Loopvol}'. Example: --driver 'hostpath=/work/build/bin/hostpathplugin " +
                          "-endpoint unix://{socket} -statedir {dir} -nodeid n1'",
        };
        var runs = new Option<int>("--runs") { Description = "Measured starts of each driver", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Unmeasured starts of each driver first", DefaultValueFactory = _ => 1 };
        var poll = new Option<int>("--poll-ms") { Description = "How often the socket is tried with Probe", DefaultValueFactory = _ => 2 };
        var settle = new Option<int>("--settle-ms")
        {
            Description = "Wait after the first answered Probe before reading VmRSS", DefaultValueFactory = _ => 1000,
        };
        var timeout = new Option<int>("--timeout-s") { Description = "Longest wait for the first Probe answer", DefaultValueFactory = _ => 30 };
        var stop = new Option<int>("--stop-timeout-s")
        {
            Description = "Longest wait for exit after SIGTERM, then SIGKILL", DefaultValueFactory = _ => 10,
        };
        var json = new Option<string?>("--json") { Description = "Also write the results to this JSON file" };
        var command = new Command("startup",
            "Time from exec to the first answered Identity.Probe, idle RSS and SIGTERM-to-exit time of driver executables")
        {
            drivers, runs, warmup, poll, settle, timeout, stop, json,
        };
        command.SetAction(async (r, ct) =>
        {
            var specs = r.GetValue(drivers) is { Length: > 0 } given
                ? given.Select(StartupDriver.Parse).ToList()
                : [StartupDriver.Loopvol];
            var options = new StartupOptions
            {
                Runs = r.GetValue(runs),
                Warmup = r.GetValue(warmup),
                PollInterval = TimeSpan.FromMilliseconds(r.GetValue(poll)),
                SettleTime = TimeSpan.FromMilliseconds(r.GetValue(settle)),
                ProbeTimeout = TimeSpan.FromSeconds(r.GetValue(timeout)),
                StopTimeout = TimeSpan.FromSeconds(r.GetValue(stop)),
            };
            var results = await RunAsync(specs, options, ct);
            Console.WriteLine(StartupResult.Table(results));
            if (r.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }), ct);
            }
            return results.Any(x => x.Failures.Count > 0) ? 1 : 0;
        });
        return command;
    }

    /// <summary>
    /// Round after round, starts every driver once, in an order rotated each round; the first
    /// <see cref="StartupOptions.Warmup"/> rounds are not measured. A failed start is reported, and the rest still run.
    /// </summary>
    public static async Task<List<StartupResult>> RunAsync(IReadOnlyList<StartupDriver> drivers, StartupOptions options,
        CancellationToken ct)
    {
        if (drivers.Select(d => d.Label).Distinct(StringComparer.Ordinal).Count() != drivers.Count)
        {
            throw new ArgumentException("each --driver needs a label of its own");
        }
        var results = drivers.Select(d => new StartupResult(d.Label, d.ToString())).ToList();
        for (var round = 0; round < options.Warmup + options.Runs; round++)
        {
            for (var k = 0; k < drivers.Count; k++)
            {
                var i = (round + k) % drivers.Count;
                try
                {
                    var sample = await StartupRun.RunAsync(drivers[i], options, ct);
                    if (round >= options.Warmup)
                    {
                        results[i].Samples.Add(sample);
                    }
                }
                catch (StartupException e)
                {
                    results[i].Failures.Add($"{(round < options.Warmup ? "warm-up" : "run")} {round + 1}: {e.Message}");
                }
            }
        }
        return results;
    }
}
