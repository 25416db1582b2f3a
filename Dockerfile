# loopvol's container image: build and publish with the .NET SDK, run on the ASP.NET runtime with the tools the
# node side calls (mkfs.ext4, resize2fs, mkfs.xfs, xfs_growfs) and util-linux.
# (No Docker engine is available on the project's build machines; this file is kept simple and is not built in CI.
# global.json is left out: the SDK image decides the SDK.)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig CsiDriver.sln ./
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/Loopvol/Loopvol.csproj -c Release -o /out --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
RUN apt-get update \
    && apt-get install -y --no-install-recommends util-linux e2fsprogs xfsprogs \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out /opt/loopvol
ENTRYPOINT ["dotnet", "/opt/loopvol/loopvol.dll"]
CMD ["--endpoint=unix:///csi/csi.sock"]
