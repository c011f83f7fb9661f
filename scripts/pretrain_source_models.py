"""Pretrain the GAN and the VAE that lesson 07 fine-tunes, and ship their weights.

Run it from the repository root to reproduce ``course_lib/assets/pretrained/``::

    .venv/bin/python scripts/pretrain_source_models.py

Source domain: 2000 *printed* digits rendered from matplotlib's bundled fonts
(``course_lib.data.printed_digits(2000, seed=0)``); the lesson's target is the *handwritten*
digits. PyTorch on the CPU, one thread, seeded, deterministic kernels: the same machine and
versions give the same bytes. The training signal is each model's own loss (the discriminator's,
the negative ELBO), never the course's digit classifier, which only measures the result.
The weights are written with :func:`course_lib.pretrained.write_npz` (no pickle, a fixed zip
timestamp), beside ``manifest.json`` with the architecture, the provenance and the sha256 of
each file.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import course_lib.torch as ct  # noqa: E402
from course_lib import data, metrics, pretrained  # noqa: E402
from course_lib.torch import transfer  # noqa: E402

SEED = 0
N_SOURCE = 2000
GAN = dict(z_dim=16, g_hidden=(64, 128), d_hidden=(128, 64), steps=4000, batch_size=64, lr=2e-4, betas=(0.5, 0.999))
VAE = dict(z_dim=8, hidden=(128, 64), steps=4000, batch_size=64, lr=1e-3)


def main() -> None:
    torch.set_num_threads(1)
    source = data.printed_digits(N_SOURCE, seed=SEED)
    held_out = data.printed_digits(500, seed=SEED + 1)  # for the manifest's numbers only
    started = time.time()

    ct.seed_everything(SEED)
    G = ct.Generator(z_dim=GAN["z_dim"], hidden=GAN["g_hidden"])
    D = ct.Discriminator(in_dim=64, hidden=GAN["d_hidden"])
    ct.train_gan(G, D, source, GAN["steps"], GAN["batch_size"], GAN["lr"], SEED, betas=GAN["betas"],
                 eval_every=GAN["steps"], desc="pretrain GAN on printed digits")
    ct.seed_everything(SEED)
    vae = ct.VAE(z_dim=VAE["z_dim"], hidden=VAE["hidden"])
    ct.train_vae(vae, source, VAE["steps"], VAE["batch_size"], VAE["lr"], SEED, eval_every=VAE["steps"],
                 desc="pretrain VAE on printed digits")
    seconds = time.time() - started

    gan_layers = {"generator": transfer.export_layers(G), "discriminator": transfer.export_layers(D)}
    vae_layers = {"encoder": transfer.export_layers(vae.encoder), "decoder": transfer.export_layers(vae.decoder)}
    samples = ct.sample_gan(G, metrics.n_eval(), seed=SEED)
    common = {"script": "scripts/pretrain_source_models.py", "seed": SEED, "framework": f"torch {torch.__version__}, "
              "CPU, one thread", "data": f"course_lib.data.printed_digits({N_SOURCE}, seed={SEED}): printed digits "
              "rendered from matplotlib's fonts (the source domain)", "training_signal": "the model's own loss; the "
              "course's digit classifier was not used in training"}
    models = {
        "gan": {"file": "printed_gan.npz", "layers": gan_layers, "architecture": {
            "generator": {"sizes": [GAN["z_dim"], *GAN["g_hidden"], 64], "hidden": "relu", "output": "sigmoid"},
            "discriminator": {"sizes": [64, *GAN["d_hidden"], 1], "hidden": "leaky_relu(0.2)", "output": "logit"}},
            "training": {**common, "loss": "non-saturating GAN, one D step then one G step per batch",
                         "steps": GAN["steps"], "batch_size": GAN["batch_size"],
                         "optimizer": f"Adam lr={GAN['lr']} betas={GAN['betas']} eps=1e-8 (G and D)"},
            "measured": {"fcd_vs_handwritten_test": round(metrics.fcd(samples, "test"), 3),
                         "fcd_vs_printed_held_out": round(metrics.fcd(samples, held_out), 3),
                         "samples": metrics.n_eval()}},
        "vae": {"file": "printed_vae.npz", "layers": vae_layers, "architecture": {
            "encoder": {"sizes": [64, *VAE["hidden"], 2 * VAE["z_dim"]], "hidden": "relu",
                        "output": "mean and log-variance of q(z|x)"},
            "decoder": {"sizes": [VAE["z_dim"], *reversed(VAE["hidden"]), 64], "hidden": "relu",
                        "output": "Bernoulli logits"}},
            "training": {**common, "loss": "negative ELBO (Bernoulli decoder)", "steps": VAE["steps"],
                         "batch_size": VAE["batch_size"], "optimizer": f"Adam lr={VAE['lr']} eps=1e-8"},
            "measured": {"test_nelbo_handwritten": round(ct.test_negative_elbo(vae, data.digits("test")), 3),
                         "nelbo_printed_held_out": round(ct.test_negative_elbo(vae, held_out), 3)}},
    }
    out = {"about": "Pretrained source models of lesson 07; reproduce with the script named below.",
           "pretraining_seconds": round(seconds, 1), "models": {}}
    for name, entry in models.items():
        file = pretrained.write_npz(pretrained.ASSET_DIR / entry["file"], pretrained.flat(entry.pop("layers")))
        out["models"][name] = {**entry, "sha256": pretrained.sha256(file), "bytes": file.stat().st_size}
    pretrained.MANIFEST.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    print(f"total size: {pretrained.size_bytes()} bytes")


if __name__ == "__main__":
    main()
