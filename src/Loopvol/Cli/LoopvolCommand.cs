using System.CommandLine;
using Loopvol.Csi;
using Loopvol.Grpc;
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

    /// <summary>Parses <paramref name="args"/>; on a usage error prints why and returns 2, else runs.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? error = null)
    {
        error ??= Console.Error;
        var parse = Create(_ => Task.FromResult(0)).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                await error.WriteLineAsync($"loopvol: {e.Message}").ConfigureAwait(false);
            }
            await error.WriteLineAsync("Run 'loopvol --help' for usage.").ConfigureAwait(false);
            return UsageError;
        }
        var run = Create(DriverHost.RunAsync).Parse(args);
        return await run.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null })
            .ConfigureAwait(false);
    }

    /// <summary>Builds the root command; <paramref name="run"/> receives the parsed settings.</summary>
    public static RootCommand Create(Func<DriverSettings, Task<int>> run)
    {
        var endpoint = new Option<string?>("--endpoint")
        {
            Description = "Where to serve CSI: unix:///path/csi.sock or tcp://host:port " +
                          "[default: unix://<data-dir>/csi.sock]",
        };
        endpoint.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } value && !TryParseEndpoint(value, out _, out var why))
            {
                r.AddError(why);
            }
        });
        var nodeId = new Option<string>("--nodeid")
        {
            Description = "This node's ID, as Kubernetes knows the node",
            DefaultValueFactory = _ => Environment.MachineName,
        };
        nodeId.Validators.Add(r =>
        {
            if (!NodeIds.IsValid(r.GetValueOrDefault<string>()))
            {
                r.AddError($"--nodeid '{r.GetValueOrDefault<string>()}' must be 1 to 63 letters, digits, '-', '_' " +
                           "or '.', beginning and ending with a letter or digit");
            }
        });
        var driverName = new Option<string>("--drivername")
        {
            Description = "The CSI driver name",
            DefaultValueFactory = _ => DriverIdentity.DefaultName,
        };
        driverName.Validators.Add(r =>
        {
            if (!DriverIdentity.IsValidName(r.GetValueOrDefault<string>()))
            {
                r.AddError($"--drivername '{r.GetValueOrDefault<string>()}' is not a valid CSI plugin name " +
                           "(at most 63 letters, digits, '-', '.', '_', beginning and ending alphanumeric)");
            }
        });
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "Directory of the journal, the pool and the socket",
            DefaultValueFactory = _ => DriverSettings.DefaultDataDirectory,
        };
        dataDir.Validators.Add(r =>
        {
            if (!Path.IsPathFullyQualified(r.GetValueOrDefault<string>()))
            {
                r.AddError($"--data-dir '{r.GetValueOrDefault<string>()}' must be an absolute path");
            }
        });
        var logLevel = OneOf("--log-level", "Least severe log level written", "info", [.. LogLevels.Keys]);
        var logFormat = OneOf("--log-format", "Log as one text line per record, or as JSON", "text",
            ["text", "json"]);
        var maxMessage = new Option<int>("--max-message-size")
        {
            Description = "Largest request message accepted, in bytes",
            DefaultValueFactory = _ => GrpcServerOptions.DefaultMaxReceiveMessageSize,
        };
        InRange(maxMessage, 1024, int.MaxValue, "--max-message-size must be at least 1024 bytes");
        var shutdown = new Option<int>("--shutdown-timeout")
        {
            Description = "Seconds in-flight calls may run on after SIGTERM",
            DefaultValueFactory = _ => 10,
        };
        InRange(shutdown, 0, 3600, "--shutdown-timeout must be between 0 and 3600 seconds");

        var root = new RootCommand("loopvol: a CSI driver for node-local volumes on loop devices")
        {
            endpoint, nodeId, driverName, dataDir, logLevel, logFormat, maxMessage, shutdown,
        };
        root.SetAction((result, cancellationToken) =>
        {
            var data = Path.GetFullPath(result.GetValue(dataDir)!);
            var endpointText = result.GetValue(endpoint) ?? $"unix://{Path.Combine(data, "csi.sock")}";
            TryParseEndpoint(endpointText, out var parsed, out _);
            return run(new DriverSettings
            {
                Endpoint = parsed!,
                NodeId = result.GetValue(nodeId)!,
                DriverName = result.GetValue(driverName)!,
                DataDirectory = data,
                LogLevel = LogLevels[result.GetValue(logLevel)!],
                JsonLogs = result.GetValue(logFormat) == "json",
                MaxMessageSize = result.GetValue(maxMessage),
                ShutdownTimeout = TimeSpan.FromSeconds(result.GetValue(shutdown)),
            });
        });
        return root;
    }

    /// <summary>Checks an integer's range; a value that is no integer at all is the parser's own error.</summary>
    private static void InRange(Option<int> option, int min, int max, string message) =>
        option.Validators.Add(r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : null;
            if (text is not null && !int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                return;
            }
            if (r.GetValueOrDefault<int>() is var value && (value < min || value > max))
            {
                r.AddError(message);
            }
        });

    private static Option<string> OneOf(string name, string description, string defaultValue, string[] allowed)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (!allowed.Contains(r.GetValueOrDefault<string>()))
            {
                r.AddError($"{name} '{r.GetValueOrDefault<string>()}' must be one of: {string.Join(", ", allowed)}");
            }
        });
        return option;
    }

    private static bool TryParseEndpoint(string value, out GrpcEndpoint? endpoint, out string why)
    {
        try
        {
            endpoint = GrpcEndpoint.Parse(value);
            why = "";
            return true;
        }
        catch (FormatException e)
        {
            endpoint = null;
            why = $"--endpoint: {e.Message}";
            return false;
        }
    }
}
