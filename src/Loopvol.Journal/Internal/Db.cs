using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Microsoft.Data.Sqlite;

namespace Loopvol.Journal.Internal;

/// <summary>
/// A connection and, inside a write, its transaction: parameterised commands with no ceremony. With a statement
/// cache (the journal's one connection), each SQL text is prepared once and reused; the cache's owner serialises
/// its use.
/// </summary>
internal readonly struct Db(SqliteConnection connection, SqliteTransaction? transaction,
    Dictionary<string, SqliteCommand>? cache = null)
{
    public int Execute(string text, params (string, object?)[] args)
    {
        using var lease = Lease(text, args);
        return lease.Command.ExecuteNonQuery();
    }

    public object? Scalar(string text, params (string, object?)[] args)
    {
        using var lease = Lease(text, args);
        return lease.Command.ExecuteScalar() is var value && value is DBNull ? null : value;
    }

    public List<T> Query<T>(string text, Func<SqliteDataReader, T> read, params (string, object?)[] args)
    {
        using var lease = Lease(text, args);
        using var reader = lease.Command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }
        return rows;
    }

    private CommandLease Lease(string text, (string Name, object? Value)[] args)
    {
        SqliteCommand? command = null;
        if (cache is null || !cache.TryGetValue(text, out command))
        {
            command = connection.CreateCommand();
            command.CommandText = text;
            foreach (var (name, _) in args)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }
            cache?.Add(text, command);
        }
        command.Transaction = transaction;
        foreach (var (name, value) in args)
        {
            command.Parameters[name].Value = value ?? DBNull.Value;
        }
        return new CommandLease(command, dispose: cache is null);
    }

    private readonly struct CommandLease(SqliteCommand command, bool dispose) : IDisposable
    {
        public SqliteCommand Command => command;

        public void Dispose()
        {
            if (dispose)
            {
                command.Dispose();
            }
        }
    }
}

/// <summary>The text forms the schema stores for enums and times.</summary>
internal static class Columns
{
    public static string Text(ObjectKind kind) => kind switch
    {
        ObjectKind.Volume => "volume",
        ObjectKind.Snapshot => "snapshot",
        ObjectKind.Group => "group",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static ObjectKind Kind(string text) => text switch
    {
        "volume" => ObjectKind.Volume,
        "snapshot" => ObjectKind.Snapshot,
        "group" => ObjectKind.Group,
        _ => throw new JournalException($"unknown kind '{text}' in the journal"),
    };

    public static string Text(ReservationState state) => state.ToString().ToLowerInvariant();

    public static ReservationState State(string text) => Enum.Parse<ReservationState>(text, ignoreCase: true);

    public static string Text(Provisioning provisioning) => provisioning switch
    {
        Model.Provisioning.Thin => "thin",
        Model.Provisioning.Thick => "thick",
        Model.Provisioning.ThinPendingRelease => "thin-pending-release",
        _ => throw new ArgumentOutOfRangeException(nameof(provisioning)),
    };

    public static Provisioning Provisioning(string text) => text switch
    {
        "thin" => Model.Provisioning.Thin,
        "thick" => Model.Provisioning.Thick,
        "thin-pending-release" => Model.Provisioning.ThinPendingRelease,
        _ => throw new JournalException($"unknown provisioning '{text}' in the journal"),
    };

    public static string Text(NodeState state) => state switch
    {
        NodeState.Init => "init",
        NodeState.Attached => "attached",
        NodeState.Mounted => "mounted",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "InUse is derived, never stored"),
    };

    public static NodeState StageState(string text) => Enum.Parse<NodeState>(text, ignoreCase: true);

    public static long Millis(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(long millis) => DateTimeOffset.FromUnixTimeMilliseconds(millis);
}
