using Loopvol.Core.Health;

namespace Loopvol.Journal.Health;

/// <summary>Ready while the journal is open and answers queries.</summary>
public sealed class JournalReadiness(Journal journal) : IReadinessCheck
{
    public string Name => "journal";

    public ValueTask<string?> CheckAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(journal.Ping() ? null : $"journal {journal.Path} does not answer");
}
