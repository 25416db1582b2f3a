using System.Text;
using System.Text.RegularExpressions;

namespace Loopvol.Bench.Startup;

/// <summary>
/// A driver executable to start: a label and a command line with placeholders, filled in afresh for each run:
/// <c>{socket}</c> (the Unix socket path it must serve CSI on), <c>{dir}</c> (an empty scratch directory for its data)
/// and <c>{loopvol}</c> (this build's loopvol executable; only as the first word).
/// </summary>
internal sealed partial record StartupDriver(string Label, IReadOnlyList<string> Words)
{
    public const string Syntax = "LABEL=COMMAND [ARGS...]";

    /// <summary>Our own driver, as the default run starts it.</summary>
    public static StartupDriver Loopvol { get; } =
        Parse("loopvol={loopvol} --endpoint unix://{socket} --data-dir {dir} --nodeid bench");

    /// <summary>
    /// Parses <c>LABEL=COMMAND [ARGS...]</c>: the label is letters, digits, '.', '_' or '-'; the command line is split
    /// on white space, and '...' or "..." keep white space inside one argument.
    /// </summary>
    public static StartupDriver Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var equals = spec.IndexOf('=', StringComparison.Ordinal);
        var label = equals > 0 ? spec[..equals].Trim() : "";
        if (!LabelPattern().IsMatch(label))
        {
            throw new FormatException($"driver '{spec}' is not {Syntax} (a label of letters, digits, '.', '_' or '-', then '=')");
        }
        var words = Split(spec[(equals + 1)..]);
        if (words.Count == 0)
        {
            throw new FormatException($"driver '{label}' has no command");
        }
        foreach (Match m in PlaceholderPattern().Matches(string.Join(' ', words)))
        {
            if (m.Value is not ("{socket}" or "{dir}" or "{loopvol}"))
            {
                throw new FormatException($"driver '{label}': unknown placeholder {m.Value}; known: {{socket}}, {{dir}}, {{loopvol}}");
            }
        }
        if (words.Skip(1).Any(w => w.Contains("{loopvol}", StringComparison.Ordinal)) ||
            words[0].Contains("{loopvol}", StringComparison.Ordinal) && words[0] != "{loopvol}")
        {
            throw new FormatException($"driver '{label}': {{loopvol}} may only be the whole command");
        }
        if (!words.Any(w => w.Contains("{socket}", StringComparison.Ordinal)))
        {
            throw new FormatException($"driver '{label}': the command must say where to serve, with {{socket}}");
        }
        return new StartupDriver(label, words);
    }

    /// <summary>The program and its arguments for one run.</summary>
    public (string Program, IReadOnlyList<string> Arguments) Expand(string socket, string dir)
    {
        var words = Words.Select(w => w.Replace("{socket}", socket, StringComparison.Ordinal)
            .Replace("{dir}", dir, StringComparison.Ordinal)).ToList();
        if (words[0] != "{loopvol}")
        {
            return (words[0], words[1..]);
        }
        var apphost = Path.Combine(AppContext.BaseDirectory, "loopvol");
        return File.Exists(apphost)
            ? (apphost, words[1..])
            : ("dotnet", [Path.Combine(AppContext.BaseDirectory, "loopvol.dll"), .. words[1..]]);
    }

    public override string ToString() => $"{Label}={string.Join(' ', Words.Select(w => w.Any(char.IsWhiteSpace) ? $"'{w}'" : w))}";

    private static List<string> Split(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char? quote = null;
        foreach (var c in line)
        {
            if (quote is { } q)
            {
                if (c == q)
                {
                    quote = null;
                }
                else
                {
                    word.Append(c);
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (quote is not null)
        {
            throw new FormatException($"unbalanced {quote} in '{line}'");
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex LabelPattern();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex PlaceholderPattern();
}
