using System.CommandLine;
using System.Globalization;

namespace Loopvol.Cli;

/// <summary>Option factories whose errors always name the flag and say what a valid value looks like.</summary>
internal static class Flags
{
    /// <summary>A string flag; a value <paramref name="isValid"/> rejects is reported as "--flag 'value' rule".</summary>
    public static Option<string> Text(string name, string description, string? defaultValue,
        Func<string, bool> isValid, string rule)
    {
        var option = new Option<string>(name) { Description = description };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } value && !isValid(value))
            {
                r.AddError($"{name} '{value}' {rule}");
            }
        });
        return option;
    }

    public static Option<string> OneOf(string name, string description, string defaultValue, string[] allowed) =>
        Text(name, description, defaultValue, allowed.Contains, $"must be one of: {string.Join(", ", allowed)}");

    /// <summary>An integer flag within [min, max]; a value that is no integer at all is the parser's own error.</summary>
    public static Option<int> Integer(string name, string description, int defaultValue, int min, int max,
        string rule)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : null;
            if (text is not null && !int.TryParse(text, CultureInfo.InvariantCulture, out _))
            {
                return;
            }
            if (r.GetValueOrDefault<int>() is var value && (value < min || value > max))
            {
                r.AddError($"{name} {value} {rule}");
            }
        });
        return option;
    }
}
