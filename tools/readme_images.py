"""Copy the README's figures from the demos' output folders into docs/images/, shrunk.

    python tools/readme_images.py RUNS [--only NAME ...]

RUNS holds one folder per demo, as the demos write them without --quick:
RUNS/<demo>/<figure>.png (for the GAN: RUNS/dcgan_mnist, the non-saturating run). Each
figure is scaled to at most WIDTH pixels wide and stored with a 64-colour palette.
--only copies just the named figures (their names under docs/images/).
"""
import argparse
import pathlib

from PIL import Image

WIDTH = 640
FIGURES = [  # (demo folder, figure, name under docs/images/)
    ("markov_weather", "sampled_weather.png", "markov_weather.png"),
    ("bayes_classifier", "quadratic_boundaries.png", "bayes_quadratic.png"),
    ("hmm_pen_digits", "digits.png", "hmm_twos.png"),
    ("autoencoder_mnist", "denoising.png", "autoencoder_denoising.png"),
    ("autoencoder_mnist", "codes_2d.png", "autoencoder_codes_2d.png"),
    ("vae_mnist", "manifold.png", "vae_manifold.png"),
    ("dcgan_mnist", "samples_by_label.png", "dcgan_by_label.png"),
    ("dcgan_mnist", "interpolation_slerp.png", "dcgan_slerp.png"),
    ("generative_ladder", "samples.png", "generative_ladder.png"),
    ("cgan_mnist", "samples_by_label.png", "cgan_by_label.png"),
    ("pix2pix_mnist", "completions.png", "pix2pix_completions.png"),
    ("pix2pix_mnist", "pixel_values.png", "pix2pix_pixel_values.png"),
]


def shrink(source, target):
    image = Image.open(source).convert("RGB")
    if image.width > WIDTH:
        image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    image.quantize(colors=64).save(target, optimize=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", help="the folder that holds one output folder per demo")
    parser.add_argument("--only", nargs="+", choices=[name for _, _, name in FIGURES], help="copy just these")
    args = parser.parse_args(argv)
    runs = args.runs
    out = pathlib.Path(__file__).resolve().parents[1] / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    for demo, figure, name in FIGURES:
        if args.only and name not in args.only:
            continue
        if not (pathlib.Path(runs) / demo / figure).exists():
            parser.error(f"{pathlib.Path(runs) / demo / figure} does not exist: run demos/{demo}.py --out "
                         f"{pathlib.Path(runs) / demo} first")
        shrink(pathlib.Path(runs) / demo / figure, out / name)
        print(f"{out / name}: {(out / name).stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
