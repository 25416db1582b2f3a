using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Support;

/// <summary>Keeps every log line written through it, at every level, for assertions.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Text, Exception? Error)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Category, string Text, Exception? Error)> Lines => [.. _lines];

    public string AllText => string.Join('\n', _lines.Select(l => $"{l.Level} {l.Category} {l.Text} {l.Error}"));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public static ILoggerFactory CreateFactory(out CapturingLoggerProvider provider)
    {
        var p = new CapturingLoggerProvider();
        provider = p;
        return LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(p));
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category,
        ConcurrentQueue<(LogLevel, string, string, Exception?)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((logLevel, category, formatter(state, exception), exception));
    }
}
