using Microsoft.Win32.SafeHandles;

namespace Loopvol.Core.Native;

/// <summary>
/// Extended attributes (setxattr(2), getxattr(2)): small named values the file system keeps with a file, in its
/// inode, so they travel with the file through renames and are synced with it by fsync.
/// </summary>
public static class ExtendedAttributes
{
    /// <summary>Sets <paramref name="name"/> on an open file, replacing any value it had.</summary>
    public static void Set(SafeFileHandle file, string name, ReadOnlySpan<byte> value, string subject)
    {
        if (Libc.FSetXattr(file, name, value, (nuint)value.Length, 0) != 0)
        {
            throw Errno.Failure("fsetxattr", $"{subject} ({name})", Errno.Last);
        }
    }

    /// <summary>Sets <paramref name="name"/> on the file at <paramref name="path"/>, replacing any value it had.</summary>
    public static void Set(string path, string name, ReadOnlySpan<byte> value)
    {
        if (Libc.SetXattr(path, name, value, (nuint)value.Length, 0) != 0)
        {
            throw Errno.Failure("setxattr", $"{path} ({name})", Errno.Last);
        }
    }

    /// <summary>The value of <paramref name="name"/> on the file at <paramref name="path"/>; null when it has none.</summary>
    public static byte[]? Get(string path, string name)
    {
        while (true)
        {
            var length = Libc.GetXattr(path, name, [], 0);
            if (length < 0)
            {
                return Errno.Last == Errno.ENODATA ? null : throw Errno.Failure("getxattr", $"{path} ({name})", Errno.Last);
            }
            var buffer = new byte[length];
            var read = Libc.GetXattr(path, name, buffer, (nuint)buffer.Length);
            if (read >= 0)
            {
                return buffer[..(int)read];
            }
            if (Errno.Last != Errno.ERANGE)
            {
                throw Errno.Failure("getxattr", $"{path} ({name})", Errno.Last);
            }
            // The value grew between the two calls: ask its size again.
        }
    }
}
