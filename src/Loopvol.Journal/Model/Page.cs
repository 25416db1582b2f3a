namespace Loopvol.Journal.Model;

/// <summary>One page of a listing, and the token of the next page (empty when this is the last).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string NextToken);
