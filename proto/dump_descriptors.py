#!/usr/bin/env python3
"""Write one FileDescriptorSet holding the root files and everything they import.

The PyPI package xds-protos ships no .proto files, but each generated _pb2 module embeds its
FileDescriptorProto. Importing a root's module registers it (and its imports) in the default
descriptor pool, from which we copy the closure in dependency order.

usage: dump_descriptors.py ROOTS_FILE OUT_DESCRIPTOR_SET OUT_FILE_LIST
  OUT_FILE_LIST receives the names to generate Swift for (the closure minus google/protobuf/*).
"""
import importlib
import sys

from google.protobuf import descriptor_pb2, descriptor_pool


def read_roots(path):
    with open(path) as f:
        lines = (line.split("#", 1)[0].strip() for line in f)
        return [line for line in lines if line]


def module_name(proto_file):
    return proto_file[: -len(".proto")].replace("/", ".") + "_pb2"


def main():
    roots_file, out_set, out_list = sys.argv[1:4]
    roots = read_roots(roots_file)
    for root in roots:
        importlib.import_module(module_name(root))
    pool = descriptor_pool.Default()

    ordered, seen = [], set()

    def visit(fd):
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            visit(dep)
        ordered.append(fd)  # after its imports: protoc wants dependencies first

    for root in roots:
        visit(pool.FindFileByName(root))

    fds = descriptor_pb2.FileDescriptorSet()
    for fd in ordered:
        proto = fds.file.add()
        proto.ParseFromString(fd.serialized_pb)
    with open(out_set, "wb") as f:
        f.write(fds.SerializeToString(deterministic=True))
    with open(out_list, "w") as f:
        for fd in ordered:
            if not fd.name.startswith("google/protobuf/"):
                f.write(fd.name + "\n")
    print(f"{len(ordered)} files in the closure of {len(roots)} roots", file=sys.stderr)


if __name__ == "__main__":
    main()
