#!/usr/bin/env python3
"""An independent OMS v1.0 verifier written from the spec text alone (no glassbox code): checks a Sigstore
bundle's DSSE signature over the PAE with python3-cryptography (ECDSA, hash by curve size), decodes the in-toto
statement, re-hashes every file of the model (recursive, default exclusions + serialization.ignore_paths +
the bundle itself), compares with predicate.resources and recomputes the subject digest.

  oms_verify.py MODEL BUNDLE (--key PUB.pem | --ca CA.pem)     exit 0 verified, 1 not, prints the reason
"""
import argparse, base64, hashlib, json, os, sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HASH = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}
DEFAULT_IGNORES = [".git", ".gitignore", ".gitattributes", ".github"]


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def pae(ptype, body):
    t = ptype.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def check_signature(bundle, args, message, sig):
    vm = bundle["verificationMaterial"]
    if args.key:
        if "publicKey" not in vm:
            fail("not a key bundle")
        key = serialization.load_pem_public_key(open(args.key, "rb").read())
    else:
        certs = [x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
                 for c in vm["x509CertificateChain"]["certificates"]]
        ca = x509.load_pem_x509_certificate(open(args.ca, "rb").read())
        chain = certs + [ca]
        for child, parent in zip(chain, chain[1:]):
            child.verify_directly_issued_by(parent)  # raises on a broken chain
        usage = certs[0].extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if x509.oid.ExtendedKeyUsageOID.CODE_SIGNING not in usage:
            fail("leaf certificate is not for code signing")
        key = certs[0].public_key()
    try:
        key.verify(sig, message, ec.ECDSA(HASH[key.curve.key_size]()))
    except Exception:
        fail("signature does not verify")


def model_files(model, ignores):
    if os.path.isfile(model):
        return {os.path.basename(model): model}
    out = {}
    for root, dirs, files in os.walk(model):
        for f in files:
            full = os.path.join(root, f)
            rel = os.path.relpath(full, model).replace(os.sep, "/")
            if not any(rel == i or rel.startswith(i + "/") for i in ignores):
                out[rel] = full
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("bundle")
    ap.add_argument("--key")
    ap.add_argument("--ca")
    args = ap.parse_args()
    bundle = json.load(open(args.bundle))
    if not bundle["mediaType"].startswith("application/vnd.dev.sigstore.bundle"):
        fail("not a Sigstore bundle")
    env = bundle["dsseEnvelope"]
    body = base64.b64decode(env["payload"])
    check_signature(bundle, args, pae(env["payloadType"], body), base64.b64decode(env["signatures"][0]["sig"]))
    st = json.loads(body)
    if st["_type"] != "https://in-toto.io/Statement/v1" or st["predicateType"] != "https://model_signing/signature/v1.0":
        fail("not an OMS v1.0 statement")
    resources = st["predicate"]["resources"]
    names = [r["name"] for r in resources]
    if names != sorted(names):
        fail("resources are not sorted by name")
    ignores = DEFAULT_IGNORES + st["predicate"]["serialization"].get("ignore_paths", [])
    bundle_rel = os.path.relpath(os.path.abspath(args.bundle), os.path.abspath(args.model)).replace(os.sep, "/")
    ignores.append(bundle_rel)
    files = model_files(args.model, ignores)
    signed = {r["name"]: r["digest"] for r in resources}
    if set(files) != set(signed):
        fail("files differ: missing %s, extra %s" % (sorted(set(signed) - set(files)), sorted(set(files) - set(signed))))
    for name, path in files.items():
        if hashlib.sha256(open(path, "rb").read()).hexdigest() != signed[name]:
            fail("digest of %s differs" % name)
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
    if st["subject"][0]["digest"]["sha256"] != root:
        fail("subject digest is not the root of the resources")
    print("OK %s %d files" % (root, len(files)))


if __name__ == "__main__":
    main()
