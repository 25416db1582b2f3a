using Loopvol.Core.Ids;
using Loopvol.Core.Time;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Cluster.Discovery;

/// <summary>
/// <c>--agents-file</c>: one agent a line, <c>NODE-ID URL</c> (e.g. <c>node-a https://10.0.0.5:9101</c>); blank lines
/// and lines starting with <c>#</c> are skipped. Node IDs follow <see cref="NodeIds"/> and appear once; a URL is
/// <c>https://host:port</c> and nothing more (agents speak mutual TLS only). The file is read at start, where an error
/// stops the start, and read again when its modification time changes; a change that does not parse is logged and
/// the agents known before are kept, never replaced by a broken list.
/// </summary>
public sealed partial class AgentsFile : IAgentDirectory
{
    private static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(1);
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly IClock _clock;
    private readonly Lock _lock = new();
    private IReadOnlyList<AgentAddress> _agents;
    private DateTime _modified;
    private DateTimeOffset _checked;

    private AgentsFile(string path, IReadOnlyList<AgentAddress> agents, DateTime modified, ILogger logger, IClock clock)
    {
        _path = path;
        _agents = agents;
        _modified = modified;
        _logger = logger;
        _clock = clock;
        _checked = clock.UtcNow;
    }

    /// <summary>Reads <paramref name="path"/>; a missing, unreadable or malformed file is a <see cref="FormatException"/> naming it.</summary>
    public static AgentsFile Load(string path, ILogger? logger = null, IClock? clock = null)
    {
        var (agents, modified) = Read(path);
        return new AgentsFile(path, agents, modified, logger ?? NullLogger.Instance, clock ?? SystemClock.Instance);
    }

    public IReadOnlyList<AgentAddress> Agents
    {
        get
        {
            lock (_lock)
            {
                RereadIfChanged();
                return _agents;
            }
        }
    }

    /// <summary>The agents <paramref name="text"/> lists; <paramref name="path"/> names the file in errors.</summary>
    public static IReadOnlyList<AgentAddress> Parse(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        var agents = new List<AgentAddress>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var where = $"{path}:{i + 1}";
            if (line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) is not [var node, var url])
            {
                throw new FormatException($"{where}: expected 'NODE-ID URL', got '{line}'");
            }
            if (!NodeIds.IsValid(node))
            {
                throw new FormatException($"{where}: node ID '{node}' must be 1 to 63 letters, digits, '-', '_' or '.', " +
                                          "beginning and ending alphanumeric");
            }
            if (agents.Find(a => a.NodeId == node) is not null)
            {
                throw new FormatException($"{where}: node ID '{node}' is listed twice");
            }
            agents.Add(new AgentAddress(node, AgentUrl(url, where)));
        }
        return agents;
    }

    private static Uri AgentUrl(string text, string where)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps ||
            url.Host.Length == 0 || url.PathAndQuery != "/" || url.Fragment.Length > 0 ||
            url.UserInfo.Length > 0 || !text.TrimEnd('/').EndsWith($":{url.Port}", StringComparison.Ordinal))
        {
            throw new FormatException($"{where}: '{text}' is not https://host:port (agents speak mutual TLS only; " +
                                      "the port is required)");
        }
        return url;
    }

    private static (IReadOnlyList<AgentAddress> Agents, DateTime Modified) Read(string path)
    {
        try
        {
            var modified = File.GetLastWriteTimeUtc(path);
            return (Parse(File.ReadAllText(path), path), modified);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"agents file {path} cannot be read: {e.Message}", e);
        }
    }

    private void RereadIfChanged()
    {
        var now = _clock.UtcNow;
        if (now - _checked < RecheckEvery)
        {
            return;
        }
        _checked = now;
        var modified = File.Exists(_path) ? File.GetLastWriteTimeUtc(_path) : DateTime.MinValue;
        if (modified == _modified)
        {
            return;
        }
        try
        {
            (_agents, _modified) = Read(_path);
            Reread(_logger, _path, _agents.Count);
        }
        catch (FormatException e)
        {
            _modified = modified; // Logged once per change, not on every look.
            KeptOld(_logger, _path, e.Message, _agents.Count);
        }
    }

    [LoggerMessage(6000, LogLevel.Information, "agents file {Path} changed: {Count} agent(s)")]
    private static partial void Reread(ILogger logger, string path, int count);

    [LoggerMessage(6001, LogLevel.Error, "agents file {Path} changed but cannot be used ({Reason}); keeping the {Count} agent(s) known before")]
    private static partial void KeptOld(ILogger logger, string path, string reason, int count);
}
