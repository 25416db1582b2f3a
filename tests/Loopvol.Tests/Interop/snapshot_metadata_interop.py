"""Reads loopvol's SnapshotMetadata streams with Debian's python3-grpcio: an independent gRPC stack.

Usage: snapshot_metadata_interop.py SOCKET_PATH GENERATED_DIR BASE_SNAPSHOT_ID TARGET_SNAPSHOT_ID MAX_RESULTS
GENERATED_DIR holds csi_pb2.py made by protoc from protos/csi.proto. Prints one JSON object per call: its status
code and detail, and each message received (block_metadata_type by name, volume_capacity_bytes, and the ranges as
[byte_offset, size_bytes] pairs).
"""
import json
import sys

import grpc

sys.path.insert(0, sys.argv[2])
import csi_pb2  # noqa: E402


def stream(channel, method, request, response_type):
    call = channel.unary_stream("/csi.v1.SnapshotMetadata/" + method, request_serializer=type(request).SerializeToString,
                                response_deserializer=response_type.FromString)
    messages = []
    try:
        for message in call(request, timeout=30.0):
            messages.append(dict(
                type=csi_pb2.BlockMetadataType.Name(message.block_metadata_type),
                capacity=message.volume_capacity_bytes,
                ranges=[[b.byte_offset, b.size_bytes] for b in message.block_metadata]))
        return "OK", "", messages
    except grpc.RpcError as error:
        return error.code().name, error.details() or "", messages


def report(call, result):
    code, detail, messages = result
    print(json.dumps(dict(call=call, code=code, detail=detail, messages=messages)), flush=True)


def main():
    base, target, max_results = sys.argv[3], sys.argv[4], int(sys.argv[5])
    channel = grpc.insecure_channel("unix://" + sys.argv[1])
    report("GetMetadataAllocated", stream(channel, "GetMetadataAllocated",
                                          csi_pb2.GetMetadataAllocatedRequest(snapshot_id=target, max_results=max_results),
                                          csi_pb2.GetMetadataAllocatedResponse))
    report("GetMetadataDelta", stream(channel, "GetMetadataDelta",
                                      csi_pb2.GetMetadataDeltaRequest(base_snapshot_id=base, target_snapshot_id=target,
                                                                      max_results=max_results),
                                      csi_pb2.GetMetadataDeltaResponse))
    report("UnknownSnapshot", stream(channel, "GetMetadataAllocated",
                                     csi_pb2.GetMetadataAllocatedRequest(snapshot_id=target[:-4] + "0000"),
                                     csi_pb2.GetMetadataAllocatedResponse))
    report("StartingOffsetOutOfRange", stream(channel, "GetMetadataDelta",
                                              csi_pb2.GetMetadataDeltaRequest(base_snapshot_id=base, target_snapshot_id=target,
                                                                              starting_offset=1 << 62),
                                              csi_pb2.GetMetadataDeltaResponse))
    channel.close()


if __name__ == "__main__":
    main()
