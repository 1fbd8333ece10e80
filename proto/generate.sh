#!/usr/bin/env bash
# Regenerates Sources/EnvoyAPI from the upstream Envoy API, exactly as upstream defines it.
#
# Needs: protoc (Debian: protobuf-compiler libprotobuf-dev), python3, and the two Swift
# protoc plugins built from the mirrored packages (see proto/README.md). CI never runs this:
# the generated Swift is committed.
#
#   PROTOC_GEN_SWIFT=/path/protoc-gen-swift PROTOC_GEN_GRPC_SWIFT=/path/protoc-gen-grpc-swift-2 \
#     proto/generate.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$root/Sources/EnvoyAPI"
xds_protos_version="$(cat "$here/XDS_PROTOS_VERSION")"
: "${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary (swift-protobuf 1.39.0)}"
: "${PROTOC_GEN_GRPC_SWIFT:?set PROTOC_GEN_GRPC_SWIFT to the protoc-gen-grpc-swift-2 binary (grpc-swift-protobuf 2.4.1)}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A private venv holding exactly the pinned xds-protos, so the output depends on nothing else.
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "xds-protos==$xds_protos_version"
"$work/venv/bin/python" "$here/dump_descriptors.py" "$here/roots.txt" "$work/envoy.pb" "$work/files.txt"

rm -f "$out"/*.pb.swift "$out"/*.grpc.swift
mapfile -t files < "$work/files.txt"

protoc --descriptor_set_in="$work/envoy.pb" \
    --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
    --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
    --swift_out="$out" \
    "${files[@]}"

# Messages that are not in the Envoy API, declared in proto/local in our own files.
(cd "$here/local" && protoc --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
    --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
    --swift_out="$out" \
    ratelimit/config/ratelimit/v3/rls_conf.proto)

# gRPC stubs for the services we serve only (ADS and the rate limit service): the plugin writes
# an empty file for every other proto.
protoc --descriptor_set_in="$work/envoy.pb" \
    --plugin=protoc-gen-grpc-swift-2="$PROTOC_GEN_GRPC_SWIFT" \
    --grpc-swift-2_opt=Visibility=Public --grpc-swift-2_opt=FileNaming=PathToUnderscores \
    --grpc-swift-2_opt=Server=true --grpc-swift-2_opt=Client=true \
    --grpc-swift-2_out="$out" \
    envoy/service/discovery/v3/ads.proto envoy/service/ratelimit/v3/rls.proto

cp "$work/files.txt" "$here/generated-files.txt"
echo "generated $(ls "$out"/*.swift | wc -l) files into $out" >&2
