namespace Loopvol.Csi.Validation;

/// <summary>Staging and target paths: absolute and clean, or refused before anything is mounted.</summary>
internal static class Paths
{
    public static string Clean(string? path, string field)
    {
        var value = Require.NotEmpty(path, field);
        var parts = value.Split('/');
        if (!value.StartsWith('/') || value.Length > 4096 || value.Contains('\0', StringComparison.Ordinal) ||
            (value.Length > 1 && value.EndsWith('/')) || parts.Skip(1).Any(p => p is "" or "." or ".."))
        {
            throw Require.Invalid($"{field} '{value}' must be an absolute path without '.', '..' or empty parts");
        }
        return value;
    }
}
