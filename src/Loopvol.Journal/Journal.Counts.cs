using System.Globalization;
using Loopvol.Core.Ids;
using Loopvol.Journal.Internal;
using Loopvol.Journal.Model;

namespace Loopvol.Journal;

/// <summary>Counts for metrics and the status view: one indexed query each, in a read transaction of its own.</summary>
public sealed partial class Journal
{
    /// <summary>Records by kind and state; a pair without records is absent.</summary>
    public IReadOnlyList<(ObjectKind Kind, ReservationState State, long Count)> CountRecords() => Read(db => db.Query(
        "SELECT kind, state, COUNT(*) FROM records GROUP BY kind, state",
        r => (Columns.Kind(r.GetString(0)), Columns.State(r.GetString(1)), r.GetInt64(2))));

    /// <summary>Volumes staged on this node (attached or mounted), and the target paths volumes are published at.</summary>
    public (long Staged, long Publications) CountNodeVolumes() => Read(db => (
        Convert.ToInt64(db.Scalar("SELECT COUNT(*) FROM node_volumes WHERE stage_state <> 'init'"), CultureInfo.InvariantCulture),
        Convert.ToInt64(db.Scalar("SELECT COUNT(*) FROM node_publications"), CultureInfo.InvariantCulture)));
}
