namespace Loopvol.Bench.Csi;

/// <summary>A one-line progress bar on standard error, drawn only when standard error is a terminal.</summary>
internal sealed class Progress(string label, int total)
{
    private static readonly bool Interactive = !Console.IsErrorRedirected;
    private int _done;

    public void Step()
    {
        var done = Interlocked.Increment(ref _done);
        if (!Interactive || total <= 0)
        {
            return;
        }
        var width = 30;
        var filled = (int)((long)done * width / total);
        Console.Error.Write($"\r[{new string('#', filled)}{new string(' ', width - filled)}] {done}/{total} {label}   ");
        if (done == total)
        {
            Console.Error.WriteLine();
        }
    }
}
