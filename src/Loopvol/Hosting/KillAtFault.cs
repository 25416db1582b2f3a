using Loopvol.Core.Faults;
using Loopvol.Core.Native;

namespace Loopvol.Hosting;

/// <summary>
/// Test-only: when the environment variable <c>LOOPVOL_TEST_CRASH_AT</c> names a fault point, the process kills
/// itself with SIGKILL on reaching it, so crash tests can stop the real driver at each step of an operation.
/// </summary>
internal sealed class KillAtFault(string point) : IFaultInjector
{
    public const string Variable = "LOOPVOL_TEST_CRASH_AT";
    private const int SigKill = 9;

    public static IFaultInjector FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } point ? new KillAtFault(point) : NoFaults.Instance;

    public void Reached(string reached)
    {
        if (reached == point)
        {
            Console.Error.WriteLine($"{Variable}: killing myself at {reached}");
            Console.Error.Flush();
            _ = Libc.Kill(Environment.ProcessId, SigKill);
        }
    }
}
