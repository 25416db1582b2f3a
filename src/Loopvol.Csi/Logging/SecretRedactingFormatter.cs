using System.Collections;
using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Loopvol.Csi.V1;

namespace Loopvol.Csi.Logging;

/// <summary>
/// Renders CSI messages as JSON for the debug log with every field the spec marks <c>csi_secret</c> cleared,
/// saying only how many secret entries were withheld.
/// </summary>
public sealed class SecretRedactingFormatter
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));
    private static readonly ConcurrentDictionary<MessageDescriptor, bool> MayHoldSecrets = new();

    public string Format(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!HoldsSecrets(message.Descriptor))
        {
            return Json.Format(message);
        }
        var copy = message.Descriptor.Parser.ParseFrom(message.ToByteString());
        var withheld = Redact(copy);
        var json = Json.Format(copy);
        return withheld == 0 ? json : $"{json} ({withheld} secret entries withheld)";
    }

    /// <summary>Clears secret fields in place, recursing into message fields; returns how many entries it cleared.</summary>
    private static int Redact(IMessage message)
    {
        var count = 0;
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            if (IsSecret(field))
            {
                count += Clear(field, message);
            }
            else if (field.FieldType == FieldType.Message && !field.IsMap && HoldsSecrets(field.MessageType))
            {
                var value = field.Accessor.GetValue(message);
                if (field.IsRepeated)
                {
                    foreach (var item in (IList)value)
                    {
                        count += Redact((IMessage)item);
                    }
                }
                else if (value is IMessage nested)
                {
                    count += Redact(nested);
                }
            }
        }
        return count;
    }

    private static int Clear(FieldDescriptor field, IMessage message)
    {
        var value = field.Accessor.GetValue(message);
        var count = value switch
        {
            ICollection collection => collection.Count,
            null => 0,
            string { Length: 0 } => 0,
            _ => 1,
        };
        field.Accessor.Clear(message);
        return count;
    }

    private static bool IsSecret(FieldDescriptor field) =>
        field.GetOptions()?.GetExtension(CsiExtensions.CsiSecret) == true;

    private static bool HoldsSecrets(MessageDescriptor descriptor) =>
        MayHoldSecrets.GetOrAdd(descriptor, d => Scan(d, []));

    private static bool Scan(MessageDescriptor descriptor, HashSet<MessageDescriptor> visiting)
    {
        if (!visiting.Add(descriptor))
        {
            return false;
        }
        foreach (var field in descriptor.Fields.InDeclarationOrder())
        {
            if (IsSecret(field) ||
                (field.FieldType == FieldType.Message && !field.IsMap && Scan(field.MessageType, visiting)))
            {
                return true;
            }
        }
        return false;
    }
}
