using Loopvol.Cluster.Discovery;
using Loopvol.Core.Time;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cluster;

/// <summary><c>--agents-file</c>: what parses, what is refused with the file and line named, and how a change is taken.</summary>
public sealed class AgentsFileTests
{
    [Test]
    public void Parse_ReadsAgents_SkippingBlankLinesAndComments()
    {
        var agents = AgentsFile.Parse("# the lab\nnode-a https://127.0.0.1:9101\n\n  node_b.2   https://[::1]:9102/ \r\nnode-c https://agent-c.example:443\n", "agents");

        Assert.That(agents.Select(a => (a.NodeId, a.Url.Host, a.Url.Port)), Is.EqualTo(new[]
        {
            ("node-a", "127.0.0.1", 9101), ("node_b.2", "[::1]", 9102), ("node-c", "agent-c.example", 443),
        }));
    }

    [TestCase("node-a", "agents:1: expected 'NODE-ID URL'")]
    [TestCase("node-a https://h:1 extra", "agents:1: expected 'NODE-ID URL'")]
    [TestCase("-node https://h:1", "agents:1: node ID '-node' must be")]
    [TestCase("node-a http://h:9101", "agents:1: 'http://h:9101' is not https://host:port")]
    [TestCase("node-a https://h", "is not https://host:port")]
    [TestCase("node-a https://h:9101/agent", "is not https://host:port")]
    [TestCase("node-a https://user@h:9101", "is not https://host:port")]
    [TestCase("node-a https://h:9101\n# x\nnode-a https://i:9101", "agents:3: node ID 'node-a' is listed twice")]
    public void Parse_Refuses_NamingTheFileAndLine(string text, string message) =>
        Assert.That(() => AgentsFile.Parse(text, "agents"), Throws.TypeOf<FormatException>().With.Message.Contains(message));

    [Test]
    public void Load_OfAMissingFile_NamesIt()
    {
        using var dir = new TempDirectory();

        Assert.That(() => AgentsFile.Load(dir.Combine("agents")),
            Throws.TypeOf<FormatException>().With.Message.Contains(dir.Combine("agents")).And.Message.Contains("cannot be read"));
    }

    [Test]
    public void AChange_IsTaken_ABrokenChange_KeepsTheAgentsKnown_UntilFixed()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("agents");
        var clock = new SetClock();
        File.WriteAllText(path, "node-a https://127.0.0.1:9101\n");
        var file = AgentsFile.Load(path, clock: clock);

        Write(path, "node-a https://127.0.0.1:9101\nnode-b https://127.0.0.1:9102\n", 1);
        var soon = file.Agents.Count;
        clock.Now += TimeSpan.FromSeconds(2);
        var added = file.Agents.Select(a => a.NodeId).ToList();
        Write(path, "node-a https://127.0.0.1:9101\nnode-b\n", 2);
        clock.Now += TimeSpan.FromSeconds(2);
        var broken = file.Agents.Select(a => a.NodeId).ToList();
        Write(path, "node-c https://127.0.0.1:9103\n", 3);
        clock.Now += TimeSpan.FromSeconds(2);
        var fixedUp = file.Agents.Select(a => a.NodeId).ToList();

        Assert.That(soon, Is.EqualTo(1), "looked at most once a second");
        Assert.That(added, Is.EqualTo(new[] { "node-a", "node-b" }));
        Assert.That(broken, Is.EqualTo(new[] { "node-a", "node-b" }), "a broken file never replaces the agents known");
        Assert.That(fixedUp, Is.EqualTo(new[] { "node-c" }));
    }

    /// <summary>Writes the file with a modification time of its own, so a change is seen whatever the clock's grain.</summary>
    private static void Write(string path, string text, int step)
    {
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, new DateTime(2026, 1, 1, 0, 0, step, DateTimeKind.Utc));
    }

    private sealed class SetClock : IClock
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public DateTimeOffset UtcNow => Now;
    }
}
