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

    public async Task<Reservation> CreatedAsync(string name, ObjectKind kind = ObjectKind.Volume)
    {
        var r = await Journal.ReserveAsync(kind, name, Args());
        return await Journal.MarkCreatedAsync(r.Id, 1 << 20);
    }

    /// <summary>Creates <paramref name="count"/> volumes named prefix0, prefix1, … one after another; their IDs in order.</summary>
    public async Task<List<ObjectId>> CreatedIdsAsync(int count, string prefix = "pvc-")
    {
        var ids = new List<ObjectId>(count);
        for (var i = 0; i < count; i++)
        {
            ids.Add((await CreatedAsync($"{prefix}{i}")).Id);
        }
        return ids;
    }

    public void Dispose()
    {
        Journal.Dispose();
        _dir.Dispose();
    }
}
