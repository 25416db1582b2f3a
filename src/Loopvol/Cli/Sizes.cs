using System.Globalization;

namespace Loopvol.Cli;

/// <summary>Byte sizes on the command line: a whole number with an optional Kubernetes-style suffix.</summary>
internal static class Sizes
{
    private static readonly (string Suffix, long Factor)[] Suffixes =
    [
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40),
        ("K", 1000), ("M", 1000_000), ("G", 1000_000_000), ("T", 1000_000_000_000), ("", 1),
    ];

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        foreach (var (suffix, factor) in Suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) &&
                long.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture,
                    out var number) && number <= long.MaxValue / factor)
            {
                bytes = number * factor;
                return true;
            }
        }
        return false;
    }
}
