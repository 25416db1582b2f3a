using System.Text.Json.Serialization;

namespace Loopvol.Journal.Schema;

/// <summary>
/// Source-generated JSON for the string maps the journal stores (Kubernetes names) and reads from schema version 2
/// (parameters): no reflection, so the native AOT executable reads and writes them like the JIT build, byte for byte.
/// </summary>
[JsonSerializable(typeof(SortedDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class StringMapJson : JsonSerializerContext;
