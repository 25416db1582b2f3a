using Loopvol.Journal;
using Loopvol.Journal.Model;

namespace Loopvol.Pool;

/// <summary>
/// The journal is never silently replaced. A journal that is missing or empty while the pool holds images would
/// answer for none of them (every volume NOT_FOUND, deletes that leave the image, retries given new IDs, every
/// image an orphan), so it is refused, and so is a damaged one; the message names the recovery.
/// </summary>
public static class JournalGuard
{
    /// <summary>
    /// Returns what the journal at <paramref name="journalPath"/> holds when it may be opened over the pool of
    /// <paramref name="layout"/>; otherwise throws <see cref="JournalException"/> and changes nothing.
    /// </summary>
    public static JournalContents EnsureUsable(string journalPath, PoolLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        JournalContents contents;
        try
        {
            contents = Journal.Journal.Probe(journalPath);
        }
        catch (JournalException e)
        {
            throw new JournalException($"{e.Message}. It was left as it is. {Recovery(journalPath, layout, force: true)}", e);
        }
        if (contents == JournalContents.Records)
        {
            return contents;
        }
        var images = new PoolInventory(layout).BackendNames().Count;
        if (images > 0)
        {
            throw new JournalException(
                $"journal {Path.GetFullPath(journalPath)} is {(contents == JournalContents.Missing ? "missing" : "empty")} " +
                $"but the pool {layout.Directory} holds {images} image(s); a new journal would know none of them, so " +
                $"nothing was started or changed. {Recovery(journalPath, layout, force: false)}");
        }
        return contents;
    }

    /// <summary>What an operator does about a journal that cannot be used.</summary>
    public static string Recovery(string journalPath, PoolLayout layout, bool force)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var data = Path.GetDirectoryName(Path.GetFullPath(journalPath));
        return "Recover the records from the images with 'loopvol journal rebuild " +
               $"--data-dir {data} --pool-dir {layout.Directory}{(force ? " --force" : "")}'" +
               (force ? " (it keeps the old file aside)" : "") + ", or restore a backup of the journal.";
    }
}
