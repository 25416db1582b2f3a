using System.Text.RegularExpressions;

namespace Loopvol.Tests.Deploy;

/// <summary>
/// The metric names a PromQL expression reads: what is left once strings, label matchers, ranges, grouping clauses,
/// Grafana variables, function calls, keywords and numbers are taken away. Enough PromQL for dashboards and alerts.
/// </summary>
public static partial class PromQl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan",
    };

    public static IReadOnlySet<string> MetricNames(string expr)
    {
        var text = Strings().Replace(expr, "\"\"");
        text = Variables().Replace(text, " ");
        text = Matchers().Replace(text, " ");
        text = Ranges().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        return Identifiers().Matches(text).Where(m => !Keywords.Contains(m.Value) && !IsCall(text, m.Index + m.Length))
            .Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The PromQL inside a Grafana query variable: <c>label_values(expr, label)</c> reads <c>expr</c>,
    /// <c>label_values(label)</c> reads no metric, <c>query_result(expr)</c> reads <c>expr</c>, anything else is PromQL.
    /// </summary>
    public static string OfVariableQuery(string query)
    {
        if (LabelValuesOfLabel().IsMatch(query))
        {
            return "";
        }
        var match = LabelValues().Match(query);
        if (match.Success)
        {
            return match.Groups["expr"].Value;
        }
        match = QueryResult().Match(query);
        return match.Success ? match.Groups["expr"].Value : query;
    }

    private static bool IsCall(string text, int end)
    {
        while (end < text.Length && char.IsWhiteSpace(text[end]))
        {
            end++;
        }
        return end < text.Length && text[end] == '(';
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\$\{[^}]*\}|\$\w+")]
    private static partial Regex Variables();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w.:])[A-Za-z_:][\w:]*")]
    private static partial Regex Identifiers();

    [GeneratedRegex(@"^\s*label_values\(\s*[A-Za-z_]\w*\s*\)\s*$")]
    private static partial Regex LabelValuesOfLabel();

    [GeneratedRegex(@"^\s*label_values\((?<expr>.+),\s*[A-Za-z_]\w*\s*\)\s*$")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"^\s*query_result\((?<expr>.+)\)\s*$")]
    private static partial Regex QueryResult();
}
