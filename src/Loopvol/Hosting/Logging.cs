using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Loopvol.Hosting;

/// <summary>Console logging as text (one line a record) or JSON, at the chosen level.</summary>
internal static class Logging
{
    public static ILoggerFactory Create(LogLevel level, bool json) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);
        // The web host's and gRPC's own chatter (their request logs repeat ours) stays out of the log unless tracing.
        builder.AddFilter("Microsoft", level == LogLevel.Trace ? LogLevel.Debug : LogLevel.Warning);
        builder.AddFilter("Grpc", level == LogLevel.Trace ? LogLevel.Debug : LogLevel.Warning);
        if (json)
        {
            builder.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    });
}
