"""Makes the extra cases in this folder with the reference kit (shared/reference, see its README):

  learned_8_to_1x5, learned_6_to_31x17, learned_20_to_7x3: PerceiverForImageClassificationLearned with
      seeded random weights, run by the 4.42.0.dev0 reference (v441/) with interpolate_pos_encoding=True;
  any_size/<model>_<H>x<W>.safetensors: inputs of other sizes for the Fourier and conv models of ../golden/,
      run by the 4.37 reference without the flag (their position features follow the input's grid).

  /usr/bin/python3 make_extra_cases.py SHARED_REFERENCE_DIR OUT_DIR GOLDEN_DIR
  e.g. /usr/bin/python3 testdata/golden_interp/make_extra_cases.py ../shared/reference /tmp/cases testdata/golden
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np

REF, OUT, GOLDEN = (os.path.abspath(a) for a in sys.argv[1:4])
sys.path.insert(0, REF)
from run_head import load_safetensors  # noqa: E402


def write_safetensors(path, tensors, metadata=None):
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k])
        header[k] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for blob in blobs:
            f.write(blob)


def run_head(model_dir, inputs, out, v441):
    args = ["/usr/bin/python3", os.path.join(REF, "run_head.py"), model_dir, inputs, out, "--all"]
    if v441:
        args += ["--v441", "--interpolate-pos-encoding"]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    print(r.stdout.strip())


def learned_case(name, image_size, h, w, batch, labels, seed, **kw):
    sys.path.insert(0, os.path.join(REF, "v441"))
    import torch
    from transformers.models.perceiver import modeling_perceiver as M
    from transformers.models.perceiver.configuration_perceiver import PerceiverConfig
    torch.manual_seed(seed)
    cfg = PerceiverConfig(image_size=image_size, num_latents=8, d_latents=kw.pop("d_latents", 16), num_labels=labels,
                          num_blocks=1, num_self_attends_per_block=kw.pop("self_attends", 1),
                          num_self_attention_heads=2, **kw)
    model = M.PerceiverForImageClassificationLearned(cfg).eval()
    with torch.no_grad():  # every parameter random: tables of std 1, matrices 1/sqrt(fan_in), norm scales near 1
        for n, p in model.named_parameters():
            if n.endswith("position_embeddings") or n.endswith("latents"):
                p.copy_(torch.randn_like(p))
            elif p.dim() > 1:
                p.copy_(torch.randn_like(p) / np.sqrt(p[0].numel()))
            elif ("layernorm" in n or "layer_norm" in n) and n.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    c = cfg.to_dict()
    c["architectures"] = ["PerceiverForImageClassificationLearned"]
    json.dump(c, open(os.path.join(d, "config.json"), "w"), indent=2, sort_keys=True)
    write_safetensors(os.path.join(d, "model.safetensors"),
                      {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()})
    x = torch.randn(batch, 3, h, w, generator=torch.Generator().manual_seed(seed + 1)).numpy()
    inp, outp = os.path.join(d, "inputs.safetensors"), os.path.join(d, "out.safetensors")
    write_safetensors(inp, {"inputs": x})
    run_head(d, inp, outp, True)
    got = dict(load_safetensors(outp))
    got.pop("preprocessed")  # large, and position_embeddings covers the new part
    got["inputs"] = x
    write_safetensors(os.path.join(d, "golden.safetensors"), got, {
        "interpolate_pos_encoding": "true", "train_size": f"{image_size}x{image_size}", "input_size": f"{h}x{w}",
        "architecture": "PerceiverForImageClassificationLearned",
        "reference": "transformers 4.42.0.dev0 (main 42d8dd8716d4, PR #30979) modeling_perceiver, torch "
                     + torch.__version__ + " (shared/reference/v441 via run_head.py)"})
    os.remove(inp)
    os.remove(outp)


def other_size(model, h, w, batch, seed):
    d = os.path.join(OUT, "any_size")
    os.makedirs(d, exist_ok=True)
    name = f"{model}_{h}x{w}"
    x = np.random.default_rng(seed).standard_normal((batch, 3, h, w)).astype(np.float32)
    inp, outp = os.path.join(d, name + ".in.safetensors"), os.path.join(d, name + ".out.safetensors")
    write_safetensors(inp, {"inputs": x})
    run_head(os.path.join(GOLDEN, model), inp, outp, False)
    got = dict(load_safetensors(outp))
    got["inputs"] = x
    write_safetensors(os.path.join(d, name + ".safetensors"), got, {
        "model": model, "input_size": f"{h}x{w}",
        "reference": "transformers 4.37.2 modeling_perceiver (shared/reference via run_head.py), no flag"})
    os.remove(inp)
    os.remove(outp)


learned_case("learned_8_to_1x5", 8, 1, 5, 1, 3, 11)
learned_case("learned_6_to_31x17", 6, 31, 17, 3, 4, 12, num_cross_attention_heads=4, d_latents=32, self_attends=2)
learned_case("learned_20_to_7x3", 20, 7, 3, 2, 6, 13)
other_size("image_conv", 37, 29, 2, 21)
other_size("image_conv", 5, 6, 1, 22)
other_size("image_fourier", 13, 7, 2, 23)
other_size("image_fourier", 1, 1, 1, 24)
