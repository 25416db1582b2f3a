using Loopvol.Journal;
using Loopvol.Pool;
using Loopvol.Pool.Model;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Pool;

/// <summary>
/// Concurrent creates and growths near a full pool: each volume in flight counts once, whether its journal write has
/// committed yet or not. The writer is held (fault injection) just after one write commits and before its caller
/// hears of it, the moment a total read from the journal and one kept in memory would both hold that volume.
/// </summary>
public sealed class AdmissionTests() : OnLoopFileSystem("xfs")
{
    private const long MiB = 1 << 20;

    [TestCase("reserve", TestName = "{m}(a create committed, its caller not yet told)")]
    [TestCase("update-size", TestName = "{m}(a growth committed, its caller not yet told)")]
    public async Task AVolumeInFlight_CountsOnce_SoASecondThatFits_IsAdmitted(string heldWrite)
    {
        var directory = Path.Combine(MountPoint, $"pool-{Guid.NewGuid():N}");
        var gate = new Gate($"{heldWrite}.after-commit");
        using var journal = Loopvol.Journal.Journal.Open(directory + ".journal.db", new JournalOptions { Faults = gate });
        var pool = new StoragePool(journal, new ImageStore(new PoolLayout(directory)), new PoolOptions());
        var capacity = pool.AvailableBytes();
        var first = capacity / 2 / MiB * MiB;
        var second = capacity * 2 / 5 / MiB * MiB; // Fits beside the first, not twice.
        var held = heldWrite == "reserve"
            ? pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-first", RequiredBytes = first }, default)
            : GrowAsync(pool, first);
        Assert.That(await gate.WaitEnteredAsync(TimeSpan.FromSeconds(30)), Is.True, "the first write committed and is held");

        var creating = pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-second", RequiredBytes = second }, default);
        while (!creating.IsCompleted && pool.Admitting < 2)
        {
            await Task.Delay(10);
        }
        var refusedAtOnce = creating.IsCompleted;
        gate.Open();
        await held;

        Assert.That(refusedAtOnce, Is.False, () => $"refused while the first was in flight: {creating.Exception?.InnerException?.Message}");
        Assert.That((await creating).CapacityBytes, Is.EqualTo(second));
        Assert.That(journal.ProvisionedBytes(), Is.EqualTo(first + second));
        await pool.DrainDeletesAsync();
    }

    /// <summary>Creates a small volume (its write is not the one held), then grows it to <paramref name="bytes"/>.</summary>
    private static async Task GrowAsync(StoragePool pool, long bytes)
    {
        var volume = await pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-first", RequiredBytes = MiB }, default);
        await pool.ExpandVolumeAsync(volume.Id, bytes, 0, default);
    }
}
