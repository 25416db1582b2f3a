"""Drives a running loopvol over its Unix socket with Debian's python3-grpcio: an independent gRPC stack.

Usage: identity_interop.py SOCKET_PATH GENERATED_DIR
GENERATED_DIR holds csi_pb2.py made by protoc from protos/csi.proto. Prints one JSON object per check.
"""
import json
import sys
import time

import grpc

sys.path.insert(0, sys.argv[2])
import csi_pb2  # noqa: E402


def call(channel, path, request, response_type, timeout=10.0):
    method = channel.unary_unary(path, request_serializer=type(request).SerializeToString,
                                 response_deserializer=response_type.FromString)
    try:
        return "OK", method(request, timeout=timeout), ""
    except grpc.RpcError as error:
        return error.code().name, None, error.details() or ""


def report(check, code, detail="", **fields):
    print(json.dumps(dict(check=check, code=code, detail=detail, **fields)), flush=True)


def main():
    channel = grpc.insecure_channel("unix://" + sys.argv[1])
    code, info, detail = call(channel, "/csi.v1.Identity/GetPluginInfo", csi_pb2.GetPluginInfoRequest(),
                              csi_pb2.GetPluginInfoResponse)
    report("GetPluginInfo", code, detail, name=info.name if info else "",
           vendor_version=info.vendor_version if info else "")

    code, caps, detail = call(channel, "/csi.v1.Identity/GetPluginCapabilities",
                              csi_pb2.GetPluginCapabilitiesRequest(), csi_pb2.GetPluginCapabilitiesResponse)
    report("GetPluginCapabilities", code, detail,
           services=[c.service.type for c in caps.capabilities] if caps else [])

    code, probe, detail = call(channel, "/csi.v1.Identity/Probe", csi_pb2.ProbeRequest(), csi_pb2.ProbeResponse)
    report("Probe", code, detail, ready=probe.ready.value if probe and probe.HasField("ready") else None)

    code, _, detail = call(channel, "/csi.v1.NoSuchService/NoSuchMethod", csi_pb2.ProbeRequest(),
                           csi_pb2.ProbeResponse)
    report("UnknownMethod", code, detail)

    code, _, detail = call(channel, "/csi.v1.Controller/CreateVolume",
                           csi_pb2.CreateVolumeRequest(name="pvc-1", secrets={"k": "v"}),
                           csi_pb2.CreateVolumeResponse)
    report("InvalidCreateVolume", code, detail)

    # A generous deadline travels as grpc-timeout and must be accepted.
    code, _, detail = call(channel, "/csi.v1.Identity/Probe", csi_pb2.ProbeRequest(), csi_pb2.ProbeResponse,
                           timeout=30.0)
    report("GenerousDeadline", code, detail)

    # A request body that never ends: the server waits for its end, so only the deadline can end the call.
    def never_ending():
        yield csi_pb2.ProbeRequest()
        time.sleep(5)

    blocked = channel.stream_unary("/csi.v1.Identity/Probe", request_serializer=csi_pb2.ProbeRequest.SerializeToString,
                                   response_deserializer=csi_pb2.ProbeResponse.FromString)
    started = time.monotonic()
    try:
        blocked(never_ending(), timeout=0.5)
        report("BlockedUntilDeadline", "OK")
    except grpc.RpcError as error:
        report("BlockedUntilDeadline", error.code().name, error.details() or "",
               seconds=round(time.monotonic() - started, 3))
    channel.close()


if __name__ == "__main__":
    main()
