using Loopvol.Core.Faults;
using Loopvol.Core.Host;
using Loopvol.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.NodeHost.Loop;

/// <summary>
/// Loop devices through the kernel's loop interface: LOOP_CTL_GET_FREE on /dev/loop-control for a free device,
/// LOOP_CONFIGURE to bind a file to it in one step (with direct I/O when asked, and autoclear so that the device
/// goes away by itself when its last user closes it), LOOP_SET_CAPACITY after the file grew, LOOP_CLR_FD to detach.
/// </summary>
public static class LoopDevices
{
    private const uint LoopCtlGetFree = 0x4C82;
    private const uint LoopConfigure = 0x4C0A;
    private const uint LoopClrFd = 0x4C01;
    private const uint LoopSetCapacity = 0x4C07;
    private const uint FlagReadOnly = 1;
    private const uint FlagAutoclear = 4;
    private const uint FlagDirectIo = 16;
    private const int ConfigSize = 304; // struct loop_config: fd, block_size, loop_info64 (232), reserved (64).
    private const int FlagsOffset = 8 + 52; // loop_info64.lo_flags inside loop_config.

    /// <summary>The call whose EBUSY means the device offered as free was taken meanwhile.</summary>
    public const string ConfigureCall = "LOOP_CONFIGURE";

    /// <summary>
    /// Binds <paramref name="file"/> to a free loop device and returns the device's path and an open handle to it.
    /// With <paramref name="autoclear"/> the device detaches itself once the handle and every mount of it are gone.
    /// One attempt: another process may take the device between LOOP_CTL_GET_FREE and LOOP_CONFIGURE, which then
    /// fails with EBUSY (a <see cref="Core.Errors.CommandFailedException"/> for <see cref="ConfigureCall"/>); the
    /// caller retries, and each call asks for a free device afresh. Fault point <c>attach.got-free</c>: the device
    /// is open and not yet configured.
    /// </summary>
    public static (string Device, SafeFileHandle Handle) Attach(string file, bool readOnly, bool autoclear, bool directIo,
        IFaultInjector faults)
    {
        using var backing = File.OpenHandle(file, FileMode.Open, readOnly ? FileAccess.Read : FileAccess.ReadWrite);
        int index;
        using (var control = File.OpenHandle("/dev/loop-control", FileMode.Open, FileAccess.ReadWrite))
        {
            index = (int)Errno.Check(Libc.Ioctl(control, LoopCtlGetFree), "LOOP_CTL_GET_FREE", "/dev/loop-control");
        }
        var device = $"/dev/loop{index}";
        var handle = File.OpenHandle(device, FileMode.Open, readOnly ? FileAccess.Read : FileAccess.ReadWrite);
        int errno;
        try
        {
            faults.Reached("attach.got-free");
            var flags = (readOnly ? FlagReadOnly : 0) | (autoclear ? FlagAutoclear : 0) | (directIo ? FlagDirectIo : 0);
            if (Configure(handle, backing, flags) == 0)
            {
                return (device, handle);
            }
            errno = Errno.Last;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        handle.Dispose();
        if (errno == Errno.EINVAL && directIo)
        {
            return Attach(file, readOnly, autoclear, directIo: false, faults); // The file system refuses direct I/O.
        }
        throw Errno.Failure(ConfigureCall, $"{device} for {file}", errno);
    }

    /// <summary>Detaches a loop device; one already detached is success.</summary>
    public static void Detach(string device)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(device, FileMode.Open, FileAccess.Read);
        }
        catch (FileNotFoundException)
        {
            return;
        }
        using (handle)
        {
            if (Libc.Ioctl(handle, LoopClrFd) != 0 && Errno.Last is not Errno.ENXIO)
            {
                throw Errno.Failure("LOOP_CLR_FD", device, Errno.Last);
            }
        }
    }

    /// <summary>Makes the device take the backing file's new size.</summary>
    public static void RefreshCapacity(string device)
    {
        using var handle = File.OpenHandle(device, FileMode.Open, FileAccess.Read);
        Errno.Check(Libc.Ioctl(handle, LoopSetCapacity), "LOOP_SET_CAPACITY", device);
    }

    /// <summary>The loop device that holds <paramref name="file"/>, if one does.</summary>
    public static string? Holding(string file) => LoopBackingFiles.Holding(file) is [var device, ..] ? device : null;

    /// <summary>The file a loop device holds, or null when it holds none.</summary>
    public static string? BackingFile(string device) =>
        LoopBackingFiles.Read().TryGetValue(device, out var file) ? file : null;

    private static unsafe int Configure(SafeFileHandle device, SafeFileHandle backing, uint flags)
    {
        var config = stackalloc byte[ConfigSize];
        new Span<byte>(config, ConfigSize).Clear();
        *(uint*)config = (uint)backing.DangerousGetHandle();
        *(uint*)(config + FlagsOffset) = flags;
        return Libc.Ioctl(device, LoopConfigure, config);
    }
}
