# loopvol's container image: the native AOT executable (one file, SQLite linked in) on a minimal base with the
# tools the node side calls (mkfs.ext4, resize2fs, mkfs.xfs, xfs_growfs) and util-linux (losetup, mount, blkid).
# (No Docker engine is available on the project's build machines; this file is not built in CI. scripts/test runs
# the same publish command and tests its executable. global.json is left out: the SDK image decides the SDK.)
# Build and runtime stages share one distribution (Ubuntu 24.04), so the executable finds the glibc it was linked
# against.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
# Native AOT links with clang; zlib and the static SQLite (libsqlite3.a) go into the executable.
RUN apt-get update \
    && apt-get install -y --no-install-recommends clang zlib1g-dev libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig CsiDriver.sln ./
COPY protos/ protos/
COPY src/ src/
ARG TARGETARCH
RUN rid=linux-$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64) \
    && dotnet publish src/Loopvol/Loopvol.csproj -c Release -r "$rid" -o /out --nologo -warnaserror

# runtime-deps: the base .NET names for self-contained and native AOT executables; no .NET runtime in it.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble
RUN apt-get update \
    && apt-get install -y --no-install-recommends util-linux e2fsprogs xfsprogs \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/loopvol /usr/local/bin/loopvol
ENTRYPOINT ["/usr/local/bin/loopvol"]
CMD ["--endpoint=unix:///csi/csi.sock"]
