using System.Globalization;

namespace Loopvol.Grpc.Internal;

/// <summary>The <c>grpc-timeout</c> header: up to 8 digits and a unit (H, M, S, m, u, n).</summary>
internal static class GrpcTimeout
{
    /// <summary>The longest wait a timer takes; longer timeouts are clamped to it.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(int.MaxValue - 1);

    public static bool TryParse(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (string.IsNullOrEmpty(value) || value.Length < 2 || value.Length > 9)
        {
            return false;
        }
        var digits = value.AsSpan(0, value.Length - 1);
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        var amount = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        var ticks = value[^1] switch
        {
            'H' => amount * TimeSpan.TicksPerHour,
            'M' => amount * TimeSpan.TicksPerMinute,
            'S' => amount * TimeSpan.TicksPerSecond,
            'm' => amount * TimeSpan.TicksPerMillisecond,
            'u' => amount * 10,
            'n' => amount / 100,
            _ => -1L,
        };
        if (ticks < 0)
        {
            return false;
        }
        timeout = ticks > Max.Ticks ? Max : TimeSpan.FromTicks(ticks);
        return true;
    }

    /// <summary>Formats a timeout in the coarsest unit that keeps at most 8 digits, rounding up.</summary>
    public static string Format(TimeSpan timeout)
    {
        var ticks = Math.Max(0, timeout.Ticks);
        (long per, char unit)[] units =
        [
            (1, 'n'), (10, 'u'), (TimeSpan.TicksPerMillisecond, 'm'), (TimeSpan.TicksPerSecond, 'S'),
            (TimeSpan.TicksPerMinute, 'M'), (TimeSpan.TicksPerHour, 'H'),
        ];
        foreach (var (per, unit) in units)
        {
            // Nanoseconds are 1/100 of a tick.
            var amount = unit == 'n' ? ticks * 100 : (ticks + per - 1) / per;
            if (amount < 100_000_000)
            {
                return amount.ToString(CultureInfo.InvariantCulture) + unit;
            }
        }
        return "99999999H";
    }
}
