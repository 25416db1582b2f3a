using System.CommandLine;
using Loopvol.Core.Ids;
using Loopvol.Csi;
using Loopvol.Csi.Transport;
using Loopvol.Hosting;
using Microsoft.Extensions.Logging;

namespace Loopvol.Cli;

/// <summary>The command line: flags of the driver, their defaults and their checks.</summary>
public static class LoopvolCommand
{
    public const int UsageError = 2;

    private static readonly Dictionary<string, LogLevel> LogLevels = new(StringComparer.Ordinal)
    {
        ["trace"] = LogLevel.Trace,
        ["debug"] = LogLevel.Debug,
        ["info"] = LogLevel.Information,
        ["warn"] = LogLevel.Warning,
        ["error"] = LogLevel.Error,
    };

    /// <summary>
    /// Parses <paramref name="args"/>; on a usage error prints why and returns 2, else runs the driver (through
    /// <paramref name="run"/>, by default the real one) or the operator command asked for.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null,
        Func<DriverSettings, Task<int>>? run = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var parse = Create(run ?? DriverHost.RunAsync, output).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                await error.WriteLineAsync($"loopvol: {e.Message}").ConfigureAwait(false);
            }
            await error.WriteLineAsync("Run 'loopvol --help' for usage.").ConfigureAwait(false);
            return UsageError;
        }
        return await parse.InvokeAsync(new InvocationConfiguration
        {
            ProcessTerminationTimeout = null,
            Output = output,
            Error = error,
        }).ConfigureAwait(false);
    }

    /// <summary>Builds the root command; <paramref name="run"/> receives the parsed settings.</summary>
    public static RootCommand Create(Func<DriverSettings, Task<int>> run, TextWriter? output = null)
    {
        var endpoint = Flags.Text("--endpoint",
            "Where to serve CSI: unix:///path/csi.sock or tcp://host:port [default: unix://<data-dir>/csi.sock]",
            null, v => TryParseEndpoint(v, out _), "is neither unix:///absolute/path nor tcp://host:port");
        var nodeId = Flags.Text("--nodeid", "This node's ID, as Kubernetes knows the node", Environment.MachineName,
            NodeIds.IsValid, "must be 1 to 63 letters, digits, '-', '_' or '.', beginning and ending alphanumeric");
        var driverName = Flags.Text("--drivername", "The CSI driver name", DriverIdentity.DefaultName,
            DriverIdentity.IsValidName,
            "is not a valid CSI plugin name (at most 63 letters, digits, '-', '.', '_', beginning and ending " +
            "alphanumeric)");
        var dataDir = Flags.Text("--data-dir", "Directory of the journal, the pool and the socket",
            DriverSettings.DefaultDataDirectory, Path.IsPathFullyQualified, "must be an absolute path");
        dataDir.Recursive = true;
        var poolDir = Flags.Text("--pool-dir", "Directory of the volume and snapshot images [default: <data-dir>/pool]",
            null, Path.IsPathFullyQualified, "must be an absolute path");
        poolDir.Recursive = true;
        var logLevel = Flags.OneOf("--log-level", "Least severe log level written", "info", [.. LogLevels.Keys]);
        var logFormat = Flags.OneOf("--log-format", "Log as one text line per record, or as JSON", "text",
            ["text", "json"]);
        var maxMessage = Flags.Integer("--max-message-size", "Largest request message accepted, in bytes",
            CsiServerOptions.DefaultMaxReceiveMessageSize, 1024, int.MaxValue, "must be at least 1024 bytes");
        var reserve = Flags.Text("--pool-reserve", "Bytes of the pool's file system kept free (suffixes Ki, Mi, Gi, Ti, K, M, G, T)",
            "0", t => Sizes.TryParse(t, out _), "is not a size (e.g. 10Gi)");
        var overcommit = Flags.Text("--overcommit-ratio",
            "Provisioned capacity may reach this multiple of the pool's usable size", "1.0",
            t => double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture,
                out var r) && r > 0 && r <= 100, "must be a number above 0 and at most 100");
        var attach = new Option<bool>("--enable-attach")
        {
            Description = "Serve ControllerPublish/Unpublish (needs an attacher; off in per-node deployments)",
        };
        var maxVolumes = Flags.Integer("--max-volumes-per-node", "max_volumes_per_node reported by NodeGetInfo (0: no limit)",
            0, 0, 100_000, "must be between 0 and 100000");
        var reflection = new Option<bool>("--grpc-reflection")
        {
            Description = "Serve gRPC server reflection on the endpoint, so grpcurl can list and call the CSI services",
        };
        var metrics = Flags.Text("--metrics-address",
            "Serve Prometheus metrics over HTTP at /metrics on [host]:port, e.g. :9808 or 127.0.0.1:9808, apart from " +
            "the CSI endpoint [default: off]", null, v => MetricsAddress.TryParse(v, out _),
            "is not [host]:port with an IP address or localhost (e.g. :9808 or 127.0.0.1:9808)");
        var shutdown = Flags.Integer("--shutdown-timeout", "Seconds in-flight calls may run on after SIGTERM", 10, 0,
            3600, "must be between 0 and 3600 seconds");
        var maxFreeze = Flags.Integer("--max-freeze",
            "Seconds a group snapshot may keep file systems frozen before they are thawed regardless; in controller " +
            "mode, the lease each node is asked to hold its freeze for, in a group across nodes", 10, 1, 600,
            "must be between 1 and 600 seconds");

        var cluster = ClusterFlags.Create();

        var root = new RootCommand("loopvol: a CSI driver for node-local volumes on loop devices")
        {
            endpoint, nodeId, driverName, dataDir, poolDir, reserve, overcommit, attach, maxVolumes, logLevel, logFormat,
            maxMessage, shutdown, reflection, metrics, maxFreeze,
        };
        cluster.AddTo(root);
        root.Subcommands.Add(JournalCommand.Create(dataDir, poolDir, output ?? Console.Out));
        root.Subcommands.Add(StatusCommand.Create(dataDir, poolDir, output ?? Console.Out));
        root.SetAction((result, cancellationToken) =>
        {
            var data = Path.GetFullPath(result.GetValue(dataDir)!);
            TryParseEndpoint(result.GetValue(endpoint) ?? $"unix://{Path.Combine(data, "csi.sock")}", out var parsed);
            var settings = new DriverSettings
            {
                Endpoint = parsed!,
                NodeId = result.GetValue(nodeId)!,
                DriverName = result.GetValue(driverName)!,
                DataDirectory = data,
                LogLevel = LogLevels[result.GetValue(logLevel)!],
                JsonLogs = result.GetValue(logFormat) == "json",
                MaxMessageSize = result.GetValue(maxMessage),
                ShutdownTimeout = TimeSpan.FromSeconds(result.GetValue(shutdown)),
                MaxFreeze = TimeSpan.FromSeconds(result.GetValue(maxFreeze)),
                PoolReserveBytes = Sizes.TryParse(result.GetValue(reserve)!, out var bytes) ? bytes : 0,
                OvercommitRatio = double.Parse(result.GetValue(overcommit)!, System.Globalization.CultureInfo.InvariantCulture),
                EnableAttach = result.GetValue(attach),
                EnableReflection = result.GetValue(reflection),
                MetricsAddress = result.GetValue(metrics) is { } address ? MetricsAddress.Parse(address) : null,
                MaxVolumesPerNode = result.GetValue(maxVolumes),
                Faults = KillAtFault.FromEnvironment(),
            };
            settings = cluster.Apply(result, settings);
            return run(result.GetValue(poolDir) is { } pool
                ? settings with { PoolDirectory = Path.GetFullPath(pool) }
                : settings);
        });
        return root;
    }

    internal static bool TryParseEndpoint(string value, out GrpcEndpoint? endpoint)
    {
        try
        {
            endpoint = GrpcEndpoint.Parse(value);
            return true;
        }
        catch (FormatException)
        {
            endpoint = null;
            return false;
        }
    }
}
