using Loopvol.Core.Errors;
using Loopvol.Core.Ids;

namespace Loopvol.Csi.Validation;

/// <summary>Request checks made before any side effect; every failure names the field.</summary>
internal static class Require
{
    public static string NotEmpty(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw Invalid($"{field} is required") : value;

    public static T Present<T>(T? value, string field)
        where T : class =>
        value ?? throw Invalid($"{field} is required");

    public static InvalidArgumentException Invalid(string message) => new(message);

    /// <summary>
    /// An ID to look up on <paramref name="node"/>: null when it is not an ID this driver issues, or when its tag names
    /// another node (docs/cluster.md), which both mean no such object is here. No path is ever built from the text.
    /// </summary>
    public static ObjectId? Lookup(string text, ObjectKind kind, string node) =>
        RoutedId.TryParse(text, kind, out var id) && id.Value.IsFor(node) ? id.Value.Id : null;

    /// <summary>CSI capacity ranges: both sizes non-negative (what a size may be beyond that, the pool decides).</summary>
    public static (long Required, long Limit) Range(V1.CapacityRange? range)
    {
        if (range is null)
        {
            return (0, 0);
        }
        if (range.RequiredBytes < 0)
        {
            throw Invalid($"capacity_range.required_bytes {range.RequiredBytes} must not be negative");
        }
        if (range.LimitBytes < 0)
        {
            throw Invalid($"capacity_range.limit_bytes {range.LimitBytes} must not be negative");
        }
        return (range.RequiredBytes, range.LimitBytes);
    }
}
