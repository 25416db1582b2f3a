using Loopvol.Core.Ids;
using Loopvol.Journal;
using Loopvol.Journal.Model;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Journal;

/// <summary>A real journal file in a temp directory, reopened as often as a test likes.</summary>
public sealed class JournalFile : IDisposable
{
    private readonly TempDirectory _dir = new();

    public JournalFile(JournalOptions? options = null)
    {
        Options = options ?? new JournalOptions();
        Path = _dir.Combine("journal.db");
        Journal = Loopvol.Journal.Journal.Open(Path, Options);
    }

    public string Path { get; }

    public string Directory => _dir.Path;

    public JournalOptions Options { get; }

    public Loopvol.Journal.Journal Journal { get; private set; }

    /// <summary>Closes and opens the file again, as a restarted driver would.</summary>
    public Loopvol.Journal.Journal Reopen()
    {
        Journal.Dispose();
        Journal = Loopvol.Journal.Journal.Open(Path, Options);
        return Journal;
    }

    public static DefiningArguments Args(long bytes = 1 << 20, string fs = "ext4") => new()
    {
        RequiredBytes = bytes,
        Parameters = new SortedDictionary<string, string> { ["fsType"] = fs },
    };

    public Reservation Created(string name, ObjectKind kind = ObjectKind.Volume)
    {
        var r = Journal.Reserve(kind, name, Args());
        return Journal.MarkCreated(r.Id, 1 << 20);
    }

    public void Dispose()
    {
        Journal.Dispose();
        _dir.Dispose();
    }
}
