"""Rebuild proto/grpc_predict_v2.proto from the descriptor that KServe's
PyPI package ships, and check that the result compiles back to it.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install kserve==0.21.0 grpcio-tools
    /tmp/v/bin/python proto/reconstruct.py > /tmp/recon.proto

kserve/protocol/grpc/grpc_predict_v2_pb2.py holds the serialized
FileDescriptorProto that protoc made from upstream's grpc_predict_v2.proto;
this prints it back as proto3 source (comments are not in a descriptor), then
compiles that with grpcio-tools' protoc and compares the two descriptors
(json_name, which protoc adds, and the order of nested messages aside).
"""
import ast
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2 as d

T = d.FieldDescriptorProto
NAMES = {v: k[5:].lower() for k, v in T.Type.items()}


def upstream():
    spec = importlib.util.find_spec("kserve")
    path = os.path.join(os.path.dirname(spec.origin), "protocol", "grpc", "grpc_predict_v2_pb2.py")
    src = open(path).read()
    m = re.search(r"AddSerializedFile\(\s*(b'.*?')\s*\)", src, re.S)
    return d.FileDescriptorProto.FromString(ast.literal_eval(m.group(1)))


def source(fd):
    out = []

    def tname(n):
        return n.lstrip(".").removeprefix(fd.package + ".")

    def field(f, ind):
        lab = "repeated " if f.label == T.LABEL_REPEATED else ""
        ty = tname(f.type_name) if f.type in (T.TYPE_MESSAGE, T.TYPE_ENUM) else NAMES[f.type]
        return f"{ind}{lab}{ty} {f.name} = {f.number};"

    def message(m, ind):
        out.append(f"{ind}message {m.name} {{")
        entries = {n.name: n for n in m.nested_type if n.options.map_entry}
        for n in m.nested_type:
            if not n.options.map_entry:
                message(n, ind + "  ")
        done = set()
        for f in m.field:
            if f.HasField("oneof_index"):
                if f.oneof_index not in done:
                    done.add(f.oneof_index)
                    out.append(f"{ind}  oneof {m.oneof_decl[f.oneof_index].name} {{")
                    out.extend(field(g, ind + "    ") for g in m.field
                               if g.HasField("oneof_index") and g.oneof_index == f.oneof_index)
                    out.append(f"{ind}  }}")
                continue
            e = f.type_name.split(".")[-1]
            if f.label == T.LABEL_REPEATED and e in entries:
                k, v = entries[e].field
                vt = tname(v.type_name) if v.type == T.TYPE_MESSAGE else NAMES[v.type]
                out.append(f"{ind}  map<{NAMES[k.type]}, {vt}> {f.name} = {f.number};")
            else:
                out.append(field(f, ind + "  "))
        out.append(f"{ind}}}")

    out += [f'syntax = "{fd.syntax}";', "", f"package {fd.package};", ""]
    for s in fd.service:
        out.append(f"service {s.name} {{")
        for r in s.method:
            out.append(f"  rpc {r.name}({tname(r.input_type)}) returns ({tname(r.output_type)}) {{}}")
        out += ["}", ""]
    for m in fd.message_type:
        message(m, "")
        out.append("")
    return "\n".join(out)


def normalised(fd):
    def norm(m):
        for f in m.field:
            f.ClearField("json_name")
        ns = sorted(m.nested_type, key=lambda n: n.name)
        for n in ns:
            norm(n)
        del m.nested_type[:]
        m.nested_type.extend(ns)
    for m in fd.message_type:
        norm(m)
    return fd


def main():
    fd = upstream()
    text = source(fd)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, fd.name), "w") as f:
            f.write(text)
        out = os.path.join(tmp, "out.fds")
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", tmp,
                        f"--descriptor_set_out={out}", fd.name], check=True)
        back = d.FileDescriptorSet.FromString(open(out, "rb").read()).file[0]
    if normalised(back) != normalised(fd):
        sys.exit("the reconstructed source does not compile back to the shipped descriptor")
    print(text, end="")


if __name__ == "__main__":
    main()
